"""``empathic bench session``: how fast the loop runs on a scripted text conversation, stage by stage."""

from __future__ import annotations

import asyncio
import time

from agent.components import build_session
from agent.settings import Settings
from perception import TextTurn
from perception.sources import replay

SCRIPT = (
    "Hi, I ordered a laptop two weeks ago and it still hasn't arrived.",
    "I'm not sure what you mean by tracking reference?",
    "This is ridiculous, I've asked three times already!",
    "Okay, thanks, that actually helps.",
    "Can I talk to a real person please?",
)


def bench_session(turns: int = 200, profile: str = "customer_service") -> dict[str, object]:
    """Replay ``turns`` scripted user turns through the default session; JSON-ready timings."""
    session = build_session(Settings(profile=profile))
    obs = [TextTurn(4.0 * (i + 1), SCRIPT[i % len(SCRIPT)]) for i in range(turns)]

    async def go() -> int:
        return sum([1 async for _ in session.run(replay(obs))])

    start = time.perf_counter()
    events = asyncio.run(go())
    elapsed = time.perf_counter() - start
    return {
        "bench": "session",
        "turns": turns,
        "events": events,
        "seconds": round(elapsed, 4),
        "turns_per_s": round(turns / elapsed, 1),
        "ms_per_turn": round(1000 * elapsed / turns, 4),
        "stages": session.metrics.summary(),
    }

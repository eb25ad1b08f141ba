"""``empathic bench session``: how fast the loop runs on a scripted text conversation, stage by stage."""

from __future__ import annotations

import asyncio
import time

from empathic.agent.session.build import build_session
from empathic.agent.session.latency import latency_summary
from empathic.agent.session.settings import Settings
from empathic.perception import SystemClock, TextTurn
from empathic.perception.sources import replay

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


def bench_fusion(updates: int = 3000, seed: int = 0) -> dict[str, object]:
    """Time one fusion update (``update`` + ``state``) on a realistic stream: face at 15 Hz, body at 5 Hz,
    voice every 3 s, words every 5 s, each with cues; windows full as in a live session."""
    import random

    from empathic.perception import Cue, ModalityEstimate, WeightedFuser
    from empathic.perception.labels import BASIC_EMOTIONS

    rng = random.Random(seed)
    fuser = WeightedFuser()
    clock = SystemClock()
    times: list[float] = []
    t = 0.0
    for i in range(updates):
        t += 1 / 15
        modality = "face" if i % 45 else "voice"
        if i % 75 == 0:
            modality = "text"
        elif i % 3 == 0 and modality == "face":
            modality = "body"
        weights = [rng.random() for _ in BASIC_EMOTIONS]
        probs = {e: w / sum(weights) for e, w in zip(BASIC_EMOTIONS, weights, strict=True)}
        cues = tuple(Cue(f"cue{k}", rng.random(), modality, supports=("confusion",)) for k in range(4))
        est = ModalityEstimate(
            modality, t, probs, rng.uniform(-1, 1), rng.uniform(-1, 1), rng.random(), cues, {"confusion": rng.random()}
        )
        start = clock.now()
        fuser.update(est)
        fuser.state(t)
        times.append(clock.now() - start)
    return {"bench": "fusion", "updates": updates, "update": latency_summary(times[100:])}

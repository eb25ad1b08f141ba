"""``empathic bench responder``: time from a turn's end to the first response token, and tokens per second, for
the template responder and the embedded LLM through one or more runtimes in the same run, plus how often the LLM
realised what the directive asked and how often the reply checks rejected everything it wrote.

Timings come from the session's own event stream (``turn_end`` to the first ``response_chunk``), so they include
perception, policy and prompt building; the model's raw first token and its token rate come from the callbacks
that ``config`` carries into the chat model.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import numpy as np
from empathic.agent.respond.checks import ReplyStats
from empathic.agent.respond.llm import LLMResponder
from empathic.agent.respond.llm_config import LLMSettings, build_llm_responder
from empathic.agent.respond.local_llm import Runtime
from empathic.agent.respond.template import ResponseRequest, TemplateResponder
from empathic.agent.session.build import build_perceivers, build_session
from empathic.agent.session.events import ComponentFailed, Event
from empathic.agent.session.latency import latency_summary
from empathic.agent.session.settings import Settings
from empathic.perception import TextTurn
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.runnables import Runnable

SCRIPTS: dict[str, tuple[str, ...]] = {
    "customer_service": (
        "Hi, I ordered a laptop two weeks ago and it still hasn't arrived.",
        "I'm not sure what you mean by tracking reference?",
        "This is ridiculous, I've asked three times already!",
        "Okay, thanks, that actually helps.",
        "Can I talk to a real person please?",
    ),
    "tutoring": (
        "I don't understand how to find the slope of a line.",
        "I still don't get it, this is so frustrating.",
        "Oh I see, so it's rise over run!",
        "This is boring, I already know all of this.",
        "Hmm, let me think about that for a moment.",
    ),
}


class _TokenClock(AsyncCallbackHandler):
    """Stamps every token the chat model streams."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    async def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        self.stamps.append(time.perf_counter())


async def _measure(responder: Runnable[ResponseRequest, str], turns: int) -> dict[str, object]:
    first: list[float] = []
    model_first: list[float] = []
    rates: list[float] = []
    failures = 0
    done = 0
    while done < turns:
        for profile, script in SCRIPTS.items():
            n = min(len(script), turns - done)
            settings = Settings(profile=profile, face=False, body=False)
            session = build_session(settings, perceivers=build_perceivers(settings), responder=responder)
            clock = _TokenClock()
            marks: dict[str, float] = {}

            def watch(event: Event, marks: dict[str, float] = marks) -> None:
                if event.type == "turn_end":
                    marks.clear()
                    marks["end"] = time.perf_counter()
                elif event.type == "response_chunk" and "first" not in marks:
                    marks["first"] = time.perf_counter()
                elif isinstance(event, ComponentFailed) and event.component.startswith("responder."):
                    marks["failed"] = 1.0

            session.subscribe(watch)
            for i in range(n):
                clock.stamps.clear()
                await session.process(TextTurn(4.0 * (i + 1), script[i]), {"callbacks": [clock]})
                first.append(marks["first"] - marks["end"])
                failures += int("failed" in marks)
                if clock.stamps:
                    model_first.append(clock.stamps[0] - marks["end"])
                if len(clock.stamps) > 1:
                    rates.append((len(clock.stamps) - 1) / (clock.stamps[-1] - clock.stamps[0]))
            done += n
            if done >= turns:
                break
    out: dict[str, object] = {"turns": done, "first_chunk": latency_summary(first), "session_fallbacks": failures}
    if model_first:
        out["model_first_token"] = latency_summary(model_first)
        out["model_tokens_per_s"] = round(float(np.median(rates)), 1) if rates else None
    if isinstance(responder, LLMResponder):
        out["checks"] = responder.stats.summary()
    return out


async def _template_rate(turns: int) -> float:
    """Template chunks per second: the whole reply is ready at once, so this is its streaming throughput."""
    responder = TemplateResponder()
    settings = Settings(face=False, body=False)
    session = build_session(settings, perceivers=build_perceivers(settings), responder=responder)
    start = time.perf_counter()
    chunks = 0
    for i in range(turns):
        events = await session.process(TextTurn(4.0 * (i + 1), SCRIPTS["customer_service"][i % 5]))
        chunks += sum(1 for e in events if e.type == "response_chunk")
    return chunks / (time.perf_counter() - start)


def bench_responder(
    turns: int = 200, llm_turns: int = 20, runtimes: Sequence[Runtime] = ("auto",)
) -> dict[str, object]:
    """JSON-ready timings of both responders, the LLM once per runtime (keyed by runtime); ``llm_turns`` 0 skips the
    LLM (a runtime loads for up to tens of seconds)."""
    result: dict[str, object] = {"bench": "responder", "load_avg_1m": round(os.getloadavg()[0], 2)}
    template = asyncio.run(_measure(TemplateResponder(), turns))
    template["tokens_per_s"] = round(asyncio.run(_template_rate(turns)), 1)
    result["template"] = template
    if llm_turns:
        result["llm"] = {runtime: _measure_llm(runtime, llm_turns) for runtime in dict.fromkeys(runtimes)}
    return result


def _measure_llm(runtime: Runtime, turns: int) -> dict[str, object]:
    settings = LLMSettings(runtime=runtime, first_token_timeout_s=None)
    start = time.perf_counter()
    responder = build_llm_responder(settings)
    load_s = time.perf_counter() - start
    asyncio.run(_measure(responder, 1))  # warm-up: first call pays one-off costs (allocations, prefix cache)
    responder.stats = ReplyStats()
    llm = asyncio.run(_measure(responder, turns))
    return {"model": responder.model._llm_type, "threads": settings.threads, "load_s": round(load_s, 2), **llm}

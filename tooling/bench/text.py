"""``empathic bench text``: milliseconds per user turn of the text perceivers, by turn length, on one core.

Turns of 1k, 2k, 4k and 100k characters (a complaint whose sentences vary, ending angry) and a 4k-emoji turn show
that the cost grows at most linearly with length and stays bounded for the model: long turns are read through a
fixed-size excerpt. The process is pinned to one CPU and torch to one thread first. Each turn is timed twice: wall
clock, and CPU time of the current thread (``thread_*``), which other processes on a shared machine do not inflate.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
from empathic.perception.observations import TextTurn
from empathic.perception.text.factory import build_text_perceiver
from empathic.perception.text.lexicon import LexiconTextPerceiver

_SENTENCES = (
    "I ordered the desk on the third and the page said it would ship within five days.",
    "The tracking number came on the ninth, which was nice.",
    "Nobody came on the twelfth although I took the day off work.",
    "Support sent the same automatic reply twice, with a new ticket number each time.",
    "Honestly the chat bot only links to the FAQ, which I have read.",
    "My card was charged the full amount, so the money is gone and the desk is not here.",
)
_ENDING = " I am furious and exhausted, and nobody is actually reading what I write."
_EMOJI = "😡🙄🤯😢👍🙂😱🤔"


def turns() -> dict[str, str]:
    """The benchmark turns by name; each ending makes clear how the writer feels."""

    def prose(n: int) -> str:
        body, i = [], 0
        while sum(len(s) + 1 for s in body) < n - len(_ENDING):
            body.append(_SENTENCES[i % len(_SENTENCES)])
            i += 1
        return (" ".join(body) + _ENDING)[-n:]

    emoji = (_EMOJI * (4000 // len(_EMOJI) + 1))[:4000]
    return {"1k": prose(1000), "2k": prose(2000), "4k": prose(4000), "4k_emoji": emoji, "100k": prose(100_000)}


def _one_core() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _time(estimate: Callable[[TextTurn], object], text: str, n: int) -> dict[str, float]:
    estimate(TextTurn(0.0, text))  # warm-up: model load, first-use fitting
    wall, cpu = [], []
    for i in range(n):
        start, start_cpu = time.perf_counter(), time.thread_time()
        estimate(TextTurn(float(i), text))
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.thread_time() - start_cpu))
    out = {}
    for name, ms in (("", wall), ("thread_", cpu)):
        out |= {
            f"{name}p50_ms": round(float(np.percentile(ms, 50)), 2),
            f"{name}p95_ms": round(float(np.percentile(ms, 95)), 2),
        }
    return out


def bench_text(n: int = 20, text_model: str = "minilm-text-heads") -> dict[str, object]:
    cores = _one_core()
    readers = {"model": build_text_perceiver(text_model), "lexicon": LexiconTextPerceiver()}
    out: dict[str, object] = {"turns": n, "cores": cores, "model": getattr(readers["model"], "name", text_model)}
    for name, text in turns().items():
        reps = max(3, n // 4) if len(text) > 10_000 else n
        out[name] = {"chars": len(text)} | {r: _time(p.estimate, text, reps) for r, p in readers.items()}
    return out

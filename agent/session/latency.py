"""Latency: one summary (count, p50, p95, max in milliseconds) for the session's stages and every bench.

It lives in the runtime because the session reports per-stage latency; the benches import it from here (the
runtime may not import tooling).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np


def latency_summary(seconds: Iterable[float]) -> dict[str, float]:
    """``n`` and the p50, p95 and max of durations given in seconds, in milliseconds to the microsecond.

    With no durations every figure is 0 and ``n`` says so.
    """
    ms = np.asarray(list(seconds), dtype=float) * 1000.0
    if ms.size == 0:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0}
    p50, p95 = np.percentile(ms, [50, 95])
    return {
        "n": int(ms.size),
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "max_ms": round(float(ms.max()), 3),
    }


class LatencyMetrics:
    """Keeps the last ``window`` durations of each stage."""

    def __init__(self, window: int = 2048) -> None:
        self._window = window
        self._samples: dict[str, deque[float]] = {}

    def record(self, stage: str, seconds: float) -> None:
        self._samples.setdefault(stage, deque(maxlen=self._window)).append(seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        """Per stage, the :func:`latency_summary` of its window."""
        return {stage: latency_summary(samples) for stage, samples in sorted(self._samples.items())}

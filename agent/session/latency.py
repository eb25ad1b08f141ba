"""Per-stage latency, measured with the injected clock; p50/p95 over a bounded window."""

from __future__ import annotations

from collections import deque

import numpy as np


class LatencyMetrics:
    """Keeps the last ``window`` durations of each stage."""

    def __init__(self, window: int = 2048) -> None:
        self._window = window
        self._samples: dict[str, deque[float]] = {}

    def record(self, stage: str, seconds: float) -> None:
        self._samples.setdefault(stage, deque(maxlen=self._window)).append(seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        """Per stage: count, p50 and p95 in milliseconds."""
        out: dict[str, dict[str, float]] = {}
        for stage, samples in sorted(self._samples.items()):
            ms = np.asarray(samples) * 1000.0
            out[stage] = {
                "n": len(ms),
                "p50_ms": round(float(np.percentile(ms, 50)), 3),
                "p95_ms": round(float(np.percentile(ms, 95)), 3),
            }
        return out

"""The injected clock: the only place that reads time, used for latency measurement alone.

Estimates and events carry media timestamps; the clock only measures how long processing took, so swapping in
a :class:`ManualClock` makes a whole session, metrics included, deterministic.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...


class SystemClock:
    """Monotonic wall time (``time.perf_counter``)."""

    def now(self) -> float:
        return time.perf_counter()


class ManualClock:
    """A clock that moves only when told to; for tests and replays."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = start

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self._t += seconds

"""Micro-expressions: action units that leave their running baseline and return within half a second.

Each unit's running level follows it slowly (an exponential average in media time), so a held expression
becomes the new level and only brief departures stand out. A departure opens when any unit rises ``onset``
above its level, peaks, and closes when every unit has fallen back under ``release``; if it closed within
``max_duration`` it is reported as an :class:`Episode`, otherwise it was an ordinary (macro) expression.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from empathic.perception.estimates import Episode

KIND = "micro_expression"


@dataclass
class _Open:
    onset: float
    apex: float
    peak: float
    units: set[str] = field(default_factory=set)


class MicroExpressionDetector:
    """Feed action-unit intensities frame by frame; returns the episodes that ended on each frame."""

    def __init__(
        self,
        onset: float = 0.3,
        release: float = 0.12,
        max_duration: float = 0.5,
        level_time_constant: float = 1.5,
        max_gap: float = 0.25,
    ) -> None:
        self.onset = onset
        self.release = release
        self.max_duration = max_duration
        self.tau = level_time_constant
        self.max_gap = max_gap
        self.reset()

    def reset(self) -> None:
        self._level: dict[str, float] = {}
        self._last_t: float | None = None
        self._open: _Open | None = None
        self._held = False

    def update(self, t: float, aus: Mapping[str, float]) -> tuple[Episode, ...]:
        if self._last_t is None or t - self._last_t > self.max_gap or t < self._last_t:
            # first frame, or the face was lost: start the levels afresh and drop a half-seen departure
            self._level = dict(aus)
            self._last_t = t
            self._open = None
            self._held = False
            return ()
        dt = t - self._last_t
        self._last_t = t
        departures = {code: v - self._level.get(code, v) for code, v in aus.items()}
        out: tuple[Episode, ...] = ()
        ep = self._open
        if self._held:
            # after a held expression, wait until the face is back near its level before watching again
            self._held = any(d >= self.release for d in departures.values())
        elif ep is None:
            risen = {c for c, d in departures.items() if d >= self.onset}
            if risen:
                self._open = _Open(onset=t, apex=t, peak=max(departures[c] for c in risen), units=risen)
        else:
            ep.units |= {c for c, d in departures.items() if d >= self.onset}
            strength = max(departures[c] for c in ep.units)
            if strength > ep.peak:
                ep.peak, ep.apex = strength, t
            if all(departures[c] < self.release for c in ep.units):
                if t - ep.onset <= self.max_duration:
                    out = (Episode(KIND, ep.onset, ep.apex, t, tuple(sorted(ep.units)), min(1.0, ep.peak)),)
                self._open = None
            elif t - ep.onset > self.max_duration:
                self._open = None  # held too long: an ordinary expression, which the levels will absorb
                self._held = True
        if self._open is None:  # levels stand still during a departure, so it is measured from where it began
            alpha = 1.0 - math.exp(-dt / self.tau)
            for code, v in aus.items():
                self._level[code] = self._level.get(code, v) + alpha * (v - self._level.get(code, v))
        return out

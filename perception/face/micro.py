"""Micro-expressions: action units that leave their running baseline and return within half a second.

Each unit's running level follows it slowly (an exponential average in media time), so a held expression
becomes the new level and only brief departures stand out. A departure opens when any unit rises above its level
by ``onset`` *and* by ``noise_factor`` times that unit's own frame-to-frame noise, peaks, and closes when every unit
has fallen back under ``release``; if it closed within ``max_duration`` and stood above the threshold on at least
``min_frames`` frames it is reported as an :class:`Episode`, otherwise it was jitter or an ordinary expression.

Why the noise terms: landmarks of a still face jitter (camera noise, the mesher's crop moving between detection
and tracking frames), and the brow and lip-corner units turn a shift of a few pixels into an intensity of 0.3.
A still photograph then produced a stream of one-frame "AU4" episodes. The noise of each unit is a running RMS of
its departures while nothing is happening, learned over ``warmup`` seconds before any episode can open.
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
    frames: int = 1  # frames on which a unit stood above its threshold


class MicroExpressionDetector:
    """Feed action-unit intensities frame by frame; returns the episodes that ended on each frame."""

    def __init__(
        self,
        onset: float = 0.3,
        release: float = 0.12,
        max_duration: float = 0.5,
        level_time_constant: float = 1.5,
        max_gap: float = 0.25,
        noise_factor: float = 4.0,
        noise_time_constant: float = 5.0,
        min_frames: int = 2,
        warmup: float = 1.0,
    ) -> None:
        self.onset = onset
        self.release = release
        self.max_duration = max_duration
        self.tau = level_time_constant
        self.max_gap = max_gap
        self.noise_factor = noise_factor
        self.noise_tau = noise_time_constant
        self.min_frames = min_frames
        self.warmup = warmup
        self.reset()

    def reset(self) -> None:
        self._level: dict[str, float] = {}
        self._noise: dict[str, float] = {}  # running mean square of each unit's departures at rest
        self._since: float | None = None
        self._last_t: float | None = None
        self._open: _Open | None = None
        self._held = False

    def threshold(self, code: str) -> float:
        """The departure that opens an episode for one unit: ``onset``, or more where the unit is noisy."""
        return max(self.onset, self.noise_factor * math.sqrt(self._noise.get(code, 0.0)))

    def update(self, t: float, aus: Mapping[str, float]) -> tuple[Episode, ...]:
        if self._last_t is None or t - self._last_t > self.max_gap or t < self._last_t:
            # first frame, or the face was lost: start the levels afresh and drop a half-seen departure
            self._level = dict(aus)
            self._last_t = t
            self._since = t
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
            risen = {c for c, d in departures.items() if d >= self.threshold(c)}
            if risen and self._since is not None and t - self._since >= self.warmup:
                self._open = _Open(onset=t, apex=t, peak=max(departures[c] for c in risen), units=risen)
        else:
            above = {c for c, d in departures.items() if d >= self.threshold(c)}
            ep.units |= above
            ep.frames += bool(above)
            strength = max(departures[c] for c in ep.units)
            if strength > ep.peak:
                ep.peak, ep.apex = strength, t
            if all(departures[c] < self.release for c in ep.units):
                if t - ep.onset <= self.max_duration and ep.frames >= self.min_frames:
                    out = (Episode(KIND, ep.onset, ep.apex, t, tuple(sorted(ep.units)), min(1.0, ep.peak)),)
                self._open = None
            elif t - ep.onset > self.max_duration:
                self._open = None  # held too long: an ordinary expression, which the levels will absorb
                self._held = True
        if self._open is None:  # levels and noise stand still during a departure, measured from where it began
            alpha = 1.0 - math.exp(-dt / self.tau)
            beta = 1.0 - math.exp(-dt / self.noise_tau)
            for code, v in aus.items():
                self._level[code] = self._level.get(code, v) + alpha * (v - self._level.get(code, v))
                if not self._held:  # a held expression fading out is no noise
                    d = min(abs(departures[code]), self.onset / 2)  # the threshold stays <= noise_factor x onset / 2
                    self._noise[code] = self._noise.get(code, d * d) + beta * (d * d - self._noise.get(code, d * d))
        return out

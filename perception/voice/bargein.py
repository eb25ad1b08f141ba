"""Barge-in: the user talks over the agent, and it is the user, not a backchannel or the agent's own voice.

While the agent speaks, the host hands over what it plays (:meth:`BargeInDetector.play`, on the microphone's media
clock), and an :class:`EchoPath` predicts how loud that playback is in the microphone frame by frame. A frame is
the user's when the VAD hears speech and the microphone is ``echo_margin`` times louder than the predicted echo
(the prediction's coupling starts at ``prior_coupling`` and gives way to the measured one over ``prior_s`` of loud
playback, so a loudspeaker and a browser's echo-cancelled microphone both end up judged by what they do);
``min_speech_s`` of such speech (dips shorter than ``gap_s`` inside it count) is a barge-in, so "mhm", "ok" or a cough
never is. Frames the playback explains are silence to the segmenter as well, so the agent's voice is never
transcribed as the user's.
"""

from __future__ import annotations

import threading

import numpy as np
from empathic.perception.transcriber import BargeIn
from empathic.perception.voice.audio import RATE, to_mono16k
from empathic.perception.voice.echo import EchoPath
from pydantic import BaseModel, ConfigDict, Field


class BargeInConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_speech_s: float = Field(0.6, gt=0.0, description="the user's voiced speech over playback that interrupts")
    gap_s: float = Field(0.25, gt=0.0, description="a pause this long starts the count again")
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="VAD probability that counts as speech")
    echo_margin: float = Field(4.0, ge=1.0, description="times the predicted echo energy the user must exceed")
    max_delay_s: float = Field(0.4, ge=0.0, description="longest playback-to-microphone delay")
    tail_s: float = Field(0.15, gt=0.0, description="room reverberation after the delayed playback")
    coupling_s: float = Field(3.0, gt=0.0, description="recent frames the echo coupling is estimated over")
    coupling_quantile: float = Field(
        0.25,
        gt=0.0,
        le=1.0,
        description="which echo-to-prediction ratio is the coupling (low: the person's speech is not)",
    )
    prior_coupling: float = Field(10.0, gt=0.0, description="coupling assumed before any echo was measured")
    prior_s: float = Field(1.5, gt=0.0, description="loud playback over which the prior gives way to the measurement")


class BargeInDetector:
    """Judges microphone frames against what the agent is playing; see the module docstring.

    The host calls :meth:`play` and :meth:`stop` from its own thread while frames are heard in a worker thread.
    """

    def __init__(self, config: BargeInConfig | None = None) -> None:
        self.config = config or BargeInConfig()
        self._ref = np.zeros(0, dtype=np.float32)
        self._ref_t = 0.0  # media time of self._ref[0]
        self._path = self._new_path()
        self._fired = False
        self._lock = threading.Lock()
        self._reset_burst()
        self._events: list[BargeIn] = []

    def _new_path(self) -> EchoPath:
        cfg = self.config
        return EchoPath(
            cfg.max_delay_s, cfg.tail_s, quantile=cfg.coupling_quantile, window_s=cfg.coupling_s, settle_s=cfg.prior_s
        )

    def _reset_burst(self) -> None:
        self._onset: float | None = None
        self._speech = 0.0
        self._gap = 0.0

    # -- what the agent plays ------------------------------------------------------------------------------------
    def play(self, samples: np.ndarray, sample_rate: int, t: float) -> None:
        """The agent plays ``samples`` from media time ``t`` on (continuing or replacing what was queued there)."""
        x = to_mono16k(samples, sample_rate)
        with self._lock:
            if self._ref.size == 0 or not self._audible(t):
                self._ref, self._ref_t = x, t  # a new playback
                self._fired = False
                return
            at = max(0, round((t - self._ref_t) * RATE))
            self._ref = np.concatenate([self._ref[:at], np.zeros(max(0, at - self._ref.size), np.float32), x])

    def stop(self, t: float) -> None:
        """Playback was cut at media time ``t``: nothing after it will come back through the speakers."""
        with self._lock:
            self._ref = self._ref[: max(0, round((t - self._ref_t) * RATE))]
            self._fired = False
            self._reset_burst()

    @property
    def _end(self) -> float:
        return self._ref_t + self._ref.size / RATE

    def playing(self, t: float) -> bool:
        """Whether the playback can be heard at the microphone at media time ``t``."""
        with self._lock:
            return self._audible(t)

    def _audible(self, t: float) -> bool:
        cfg = self.config
        return self._ref.size > 0 and self._ref_t <= t < self._end + cfg.max_delay_s + cfg.tail_s

    # -- what the microphone hears -------------------------------------------------------------------------------
    def hear(self, frame: np.ndarray, t: float, p: float) -> float:
        """One microphone frame starting at media time ``t`` with speech probability ``p``: returns ``p`` when the
        speech can be the user's, 0 when the playback explains it; a barge-in it completes waits for :meth:`take`."""
        with self._lock:
            return self._hear(frame, t, p)

    def _hear(self, frame: np.ndarray, t: float, p: float) -> float:
        cfg = self.config
        if not self._audible(t):
            self._reset_burst()
            return p
        dt = frame.size / RATE
        energy = _energy(frame)
        predicted = self._path.push(frame, self._played(t, frame.size))
        loud = energy > cfg.echo_margin * self._coupling(t, dt) * predicted
        user = loud and p >= cfg.threshold
        self._path.learn(t, energy, predicted)
        if user:
            self._speech += dt + (self._gap if self._onset is not None else 0.0)  # dips inside speech count
            self._onset = t if self._onset is None else self._onset
            self._gap = 0.0
        else:
            self._gap += dt
            if self._gap >= cfg.gap_s:
                self._reset_burst()
        if self._onset is not None and not self._fired and self._speech >= cfg.min_speech_s - 1e-9:
            self._fired = True
            self._events.append(BargeIn(t + dt, self._onset, self._speech))
        self._trim(t)
        return p if user else 0.0

    def _coupling(self, t: float, dt: float) -> float:
        """The prior moved toward the measured coupling geometrically, all the way after ``prior_s``."""
        cfg = self.config
        measured = self._path.coupling(t)
        if measured is None:
            return cfg.prior_coupling
        w = min(1.0, self._path.measured * dt / cfg.prior_s)
        return cfg.prior_coupling ** (1.0 - w) * max(measured, 1e-12) ** w

    def take(self) -> list[BargeIn]:
        """The barge-ins decided since the last call."""
        with self._lock:
            out, self._events = self._events, []
        return out

    def _played(self, t: float, n: int) -> np.ndarray:
        """The ``n`` playback samples from media time ``t`` (silence outside the playback)."""
        at = round((t - self._ref_t) * RATE)
        out = np.zeros(n, dtype=np.float32)
        lo, hi = max(0, at), min(self._ref.size, at + n)
        if hi > lo:
            out[lo - at : hi - at] = self._ref[lo:hi]
        return out

    def _trim(self, t: float) -> None:
        """Forget playback too old to come back any more."""
        keep_from = t - self.config.max_delay_s - self.config.tail_s - 1.0
        drop = round((keep_from - self._ref_t) * RATE)
        if drop > RATE:
            self._ref, self._ref_t = self._ref[drop:], self._ref_t + drop / RATE


def _energy(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64)))

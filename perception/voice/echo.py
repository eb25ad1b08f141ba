"""How loud the agent's own voice is in the microphone right now, predicted from what it plays.

The playback comes back delayed (output buffers, the air) and smeared (the room). Both energy envelopes are kept
in 4 ms steps over the last seconds; the loop delay is the lag at which the microphone's log-envelope follows the
playback's best, re-estimated every frame and kept while the match is weak (the user talking over it). The echo
energy expected in a frame is then the delayed playback envelope, spread by a reverberation tail that decays by
30 dB over ``tail_s``, times the coupling (how much louder or quieter the microphone hears the playback).

The coupling is a low quantile of the microphone-to-prediction ratio over recent frames of loud playback: the
frames where the person is quiet (between their words, if they talk all along) set it, so their speech over the
playback does not raise it. Until a delay is found the prediction is the loudest playback within the whole delay
range, which explains more than the echo can; ratios to that bound are then taken ``UNSURE`` times over, so a
microphone that stays far quieter than the playback (a browser cancelling the echo) ends at "no echo to speak of"
while an echo whose delay is not found yet is not taken for the person. Once settled, the coupling rises slowly
(``RISE``) and falls at once, so seconds of double talk cannot talk it up.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from empathic.perception.voice.audio import RATE

STEP = 64
"""Envelope resolution in samples (4 ms)."""
ACTIVE = 1e-6
"""Envelope energy (mean square, -60 dBFS) above which the playback counts as sound."""
LOUD = 1e-4
"""Predicted echo energy (-40 dBFS) above which a frame tells the coupling (below it the noise floor would)."""
MIN_FRAMES = 8
"""Frames of loud playback (about 0.25 s) heard before the coupling is measured rather than assumed."""
UNSURE = 100.0
"""How much louder than measured against the bound the echo may be while its delay is unknown."""
RISE = 2.0
"""Fastest rise of the coupling, times per second of playback heard, once it has been measured for ``settle_s``: the
room changes slowly, while a person talking over the playback for seconds (which a spurious delay can make look like
echo) would raise it fast."""
STEP_S = 0.1
"""Most time one update of the coupling counts toward its rise (a pause in the playback allows none)."""
MATCH = 0.8
"""Correlation of the log-envelopes at which a lag is taken as the loop delay (a real echo: about 0.9; two voices
over each other, which an echo-cancelled microphone hears, reach 0.5-0.8 by chance)."""


class EchoPath:
    """Loop delay and coupling of the playback into the microphone; see the module docstring."""

    def __init__(
        self,
        max_delay_s: float,
        tail_s: float,
        history_s: float = 2.0,
        quantile: float = 0.25,
        window_s: float = 3.0,
        settle_s: float = 1.5,
    ) -> None:
        self.lags = round(max_delay_s * RATE / STEP)
        self.tail = max(1, round(tail_s * RATE / STEP))
        self.history = round(history_s * RATE / STEP)
        self.quantile = quantile
        self.window_s = window_s
        self.settle_s = settle_s
        self.measured = 0
        """Frames of loud playback the coupling was measured on so far."""
        self._decay = 10 ** (-3.0 * np.arange(self.tail) / self.tail)  # -30 dB over the tail
        self._mic: deque[float] = deque(maxlen=self.history)
        self._ref: deque[float] = deque([0.0] * (self.lags + self.tail), maxlen=self.history + self.lags + self.tail)
        self._ratios: deque[tuple[float, float, bool]] = deque()  # (media time, microphone / predicted, exact)
        self._last: float | None = None
        self._last_t = 0.0
        self._first_t: float | None = None
        self.delay: int | None = None
        """Loop delay in envelope steps, once found."""

    def push(self, mic: np.ndarray, played: np.ndarray) -> float:
        """Record a microphone frame and the playback over the same span; the echo energy expected in the frame
        (before scaling by :meth:`coupling`)."""
        n = mic.size // STEP * STEP
        self._mic.extend(_envelope(mic[:n]))
        self._ref.extend(_envelope(played[:n]))
        steps = n // STEP
        self._find_delay()
        ref = np.asarray(self._ref)
        if self.delay is None:
            return float(ref[-(steps + self.lags + self.tail) :].max(initial=0.0))
        pred = []
        for k in range(ref.size - steps, ref.size):  # the frame's envelope steps
            hi = k - self.delay
            lo = max(0, hi - self.tail + 1)
            if hi < 0:
                pred.append(0.0)
                continue
            pred.append(float(np.max(ref[lo : hi + 1][::-1] * self._decay[: hi + 1 - lo])))
        return float(np.mean(pred))

    def coupling(self, t: float) -> float | None:
        """How loud the echo is against the prediction, from recent frames (the last value measured when there are
        none); None before enough loud playback was heard."""
        while self._ratios and self._ratios[0][0] < t - self.window_s:
            self._ratios.popleft()
        exact = [r for _, r, e in self._ratios if e]
        bound = [r for _, r, e in self._ratios if not e]
        if self.delay is not None and len(exact) >= MIN_FRAMES:
            now = float(np.quantile(exact, self.quantile))
        elif len(bound) >= MIN_FRAMES:
            now = UNSURE * float(np.quantile(bound, self.quantile))
        else:
            return self._last
        if self._last is not None and self._first_t is not None and t - self._first_t >= self.settle_s:
            now = min(now, self._last * RISE ** min(STEP_S, max(0.0, t - self._last_t)))
        self._last, self._last_t = now, t
        return now

    def learn(self, t: float, mic_energy: float, predicted: float) -> None:
        """How loud the microphone was against the prediction in a frame of loud playback (against the bound while
        the delay is unknown). Frames with the person's voice are taken too, the low quantile passes over them:
        leaving out frames judged theirs would lock in a coupling that was once measured too low."""
        if predicted > LOUD:
            self._ratios.append((t, mic_energy / predicted, self.delay is not None))
            self.measured += 1
            self._first_t = t if self._first_t is None else self._first_t

    def _find_delay(self) -> None:
        if len(self._mic) < self.history // 4:
            return
        mic = np.log(np.asarray(self._mic) + ACTIVE)
        ref = np.log(np.asarray(self._ref) + ACTIVE)
        h = mic.size
        if np.mean(ref[-h:] > np.log(ACTIVE)) < 0.3:
            return
        windows = np.lib.stride_tricks.sliding_window_view(ref[ref.size - h - self.lags :], h)[::-1]  # row i: lag i
        a = (mic - mic.mean()) / (mic.std() + 1e-9)
        b = (windows - windows.mean(axis=1, keepdims=True)) / (windows.std(axis=1, keepdims=True) + 1e-9)
        corr = b @ a / h
        best = int(np.argmax(corr))
        if corr[best] > MATCH:  # a weaker match (the user talking over it) keeps the delay found before
            self.delay = best


def _envelope(x: np.ndarray) -> np.ndarray:
    return np.mean(np.square(x.reshape(-1, STEP), dtype=np.float64), axis=1)

"""How loud the agent's own voice is in the microphone right now, predicted from what it plays.

The playback comes back delayed (output buffers, the air) and smeared (the room). Both energy envelopes are kept
in 4 ms steps over the last seconds; the loop delay is the lag at which the microphone's log-envelope follows the
playback's best, re-estimated every frame and kept while the match is weak (the user talking over it). The echo
energy expected in a frame is then the delayed playback envelope, spread by a reverberation tail that decays by
30 dB over ``tail_s``, times the coupling (how much louder or quieter the microphone hears the playback): a high
quantile of the microphone-to-prediction ratio over recent frames of loud playback. Until a delay is found
the prediction is the loudest playback within the whole delay range, which explains more than the echo can.
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


class EchoPath:
    """Loop delay and coupling of the playback into the microphone; see the module docstring."""

    def __init__(
        self, max_delay_s: float, tail_s: float, history_s: float = 2.0, quantile: float = 0.9, window_s: float = 3.0
    ) -> None:
        self.lags = round(max_delay_s * RATE / STEP)
        self.tail = max(1, round(tail_s * RATE / STEP))
        self.history = round(history_s * RATE / STEP)
        self.quantile = quantile
        self.window_s = window_s
        self._decay = 10 ** (-3.0 * np.arange(self.tail) / self.tail)  # -30 dB over the tail
        self._mic: deque[float] = deque(maxlen=self.history)
        self._ref: deque[float] = deque([0.0] * (self.lags + self.tail), maxlen=self.history + self.lags + self.tail)
        self._ratios: deque[tuple[float, float]] = deque()  # (media time, microphone / predicted energy)
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
        """Microphone over predicted echo energy in recent frames; None before enough loud playback was heard."""
        while self._ratios and self._ratios[0][0] < t - self.window_s:
            self._ratios.popleft()
        if len(self._ratios) < MIN_FRAMES:
            return None
        return float(np.quantile([r for _, r in self._ratios], self.quantile))

    def learn(self, t: float, mic_energy: float, predicted: float) -> None:
        """How loud the microphone was against the prediction, in a frame of loud playback once the delay is known
        (before, the prediction is an upper bound, not an estimate). Frames with the user's voice are taken too:
        leaving out frames judged the user's would lock in a coupling that was once measured too low."""
        if self.delay is not None and predicted > LOUD:
            self._ratios.append((t, mic_energy / predicted))

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
        if corr[best] > 0.5:  # a weaker match (the user talking over it) keeps the delay found before
            self.delay = best


def _envelope(x: np.ndarray) -> np.ndarray:
    return np.mean(np.square(x.reshape(-1, STEP), dtype=np.float64), axis=1)

"""Audio conversion: whatever arrives (any rate, channel count, sample type) becomes 16 kHz mono float32.

Everything inside :mod:`perception.voice` works on that one format, so VAD, Whisper and prosody never see a
48 kHz stereo int16 buffer by accident. Resampling is polyphase (anti-aliased), not linear interpolation, because
aliasing from a 48 kHz microphone shows up as hiss that Whisper transcribes and the pitch tracker mistakes for voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np
from empathic.perception.errors import ObservationError
from empathic.perception.observations import AudioChunk
from scipy.signal import resample_poly

RATE = 16000
"""The sample rate used everywhere inside the voice package."""


def to_mono16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Samples of any numeric dtype, (n,) or (n, channels), at ``sample_rate`` -> mono float32 at 16 kHz in [-1, 1].

    NaN and infinities become silence/full scale (via :meth:`AudioChunk.mono_float`) rather than poisoning the models.
    """
    return _resample(AudioChunk(0.0, np.asarray(samples), int(sample_rate)).mono_float(), int(sample_rate))


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] (clipped) as little-endian 16-bit PCM, the layout WAV files and players expect."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")


def chunk_to_mono16k(chunk: AudioChunk) -> np.ndarray:
    """A chunk's samples as 16 kHz mono float32."""
    return _resample(chunk.mono_float(), chunk.sample_rate)


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return np.ascontiguousarray(x, dtype=np.float32)
    g = gcd(RATE, rate)
    y = resample_poly(x.astype(np.float64), RATE // g, rate // g)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


@dataclass(frozen=True, slots=True)
class SignalCheck:
    """What a quick look at a buffer says about whether it can carry speech at all."""

    rms_db: float
    clipped_fraction: float
    reason: str

    @property
    def usable(self) -> bool:
        return not self.reason


SILENCE_DB = -60.0
"""Below this RMS level (dBFS) there is nothing to hear (quiet, distant speech sits around -45 to -55)."""
CLIPPED_LIMIT = 0.2
"""A buffer with more than this share of samples at full scale is too distorted for pitch or emotion."""


def check_signal(x: np.ndarray) -> SignalCheck:
    """Level and clipping of a 16 kHz buffer; ``reason`` is empty when it is worth analysing."""
    if x.size == 0:
        return SignalCheck(-120.0, 0.0, "no samples")
    if not np.all(np.isfinite(x)):
        raise ObservationError("audio contains NaN or infinite samples; convert it with to_mono16k first")
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    rms_db = 20.0 * np.log10(max(rms, 1e-6))
    clipped = float(np.mean(np.abs(x) >= 0.999))
    if rms_db < SILENCE_DB:
        return SignalCheck(rms_db, clipped, "silence")
    if clipped > CLIPPED_LIMIT:
        return SignalCheck(rms_db, clipped, f"clipped audio ({clipped:.0%} of samples at full scale)")
    return SignalCheck(rms_db, clipped, "")

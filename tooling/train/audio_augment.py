"""Audio augmentation for training the vocal-emotion head: speed, pitch, noise and reverberation, numpy only.

RAVDESS has 16 studio-quiet actors; a head trained on them alone learns their voices and their room. Each training
clip is also encoded after one random perturbation of the kind live audio brings (another vocal tract or speaking
rate, a fan, a reverberant room), so the head leans on what survives them. All take and return 16 kHz mono float32.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from empathic.perception.voice.audio import RATE
from scipy.signal import fftconvolve, resample_poly

N_FFT = 1024
HOP = 256


def speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Played ``factor`` times faster: shorter and higher (the classic Kaldi speed perturbation)."""
    if factor <= 0:
        raise ValueError(f"speed factor must be positive, got {factor}")
    up = 100
    down = max(1, round(up * factor))
    return resample_poly(audio.astype(np.float64), up, down).astype(np.float32)


def _stretch(audio: np.ndarray, rate: float) -> np.ndarray:
    """Phase-vocoder time stretch: ``rate`` > 1 shortens, pitch unchanged."""
    window = np.hanning(N_FFT)
    padded = np.pad(audio.astype(np.float64), (N_FFT // 2, N_FFT // 2))
    n = 1 + max(0, padded.size - N_FFT) // HOP
    frames = np.stack([padded[i * HOP : i * HOP + N_FFT] * window for i in range(n)])
    spec = np.fft.rfft(frames, axis=1)
    steps = np.arange(0, n - 1, rate)
    expected = 2 * np.pi * HOP * np.arange(spec.shape[1]) / N_FFT
    phase = np.angle(spec[0])
    out = np.zeros(steps.size * HOP + N_FFT)
    norm = np.zeros_like(out)
    for j, s in enumerate(steps):
        i, frac = int(s), s - int(s)
        mag = (1 - frac) * np.abs(spec[i]) + frac * np.abs(spec[i + 1])
        frame = np.fft.irfft(mag * np.exp(1j * phase), N_FFT) * window
        out[j * HOP : j * HOP + N_FFT] += frame
        norm[j * HOP : j * HOP + N_FFT] += window**2
        delta = np.angle(spec[i + 1]) - np.angle(spec[i]) - expected
        phase = phase + expected + (delta + np.pi) % (2 * np.pi) - np.pi
    out = out / np.maximum(norm, 1e-3)
    return out[N_FFT // 2 : N_FFT // 2 + round(audio.size / rate)]


def pitch(audio: np.ndarray, semitones: float) -> np.ndarray:
    """Pitch moved by ``semitones`` at the same duration (stretch, then resample back)."""
    factor = 2.0 ** (semitones / 12.0)
    shifted = speed(_stretch(audio, 1.0 / factor).astype(np.float32), factor)
    return _fit_length(shifted, audio.size)


def noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise at ``snr_db`` below the clip's own power."""
    power = float(np.mean(audio.astype(np.float64) ** 2))
    if power == 0.0:
        return audio.copy()
    sigma = np.sqrt(power / 10.0 ** (snr_db / 10.0))
    return np.clip(audio + rng.normal(0.0, sigma, audio.size), -1.0, 1.0).astype(np.float32)


def reverb(audio: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Convolution with a synthetic room: a direct path plus exponentially decaying noise (60 dB down at ``rt60``)."""
    t = np.arange(max(1, round(rt60 * RATE))) / RATE
    tail = rng.normal(0.0, 1.0, t.size) * 10.0 ** (-3.0 * t / rt60)
    ir = np.concatenate([[1.0], 0.3 * tail / np.sqrt(np.sum(tail**2))])
    wet = fftconvolve(audio.astype(np.float64), ir)[: audio.size]
    peak = np.max(np.abs(wet))
    scale = np.max(np.abs(audio)) / peak if peak > 0 else 1.0
    return (wet * scale).astype(np.float32)


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if x.size >= n else np.pad(x, (0, n - x.size))


def perturbations(rng: np.random.Generator) -> list[tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    """One perturbation of each kind with a random strength, named for logging: speed 0.9-0.95 or 1.05-1.1, pitch
    1-2.5 semitones up or down, noise at 10-30 dB SNR, and a room with RT60 0.2-0.8 s."""
    f = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 0.1) + 1.0)
    st = float(rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 2.5))
    snr, rt = float(rng.uniform(10, 30)), float(rng.uniform(0.2, 0.8))
    noise_seed, room_seed = (int(s) for s in rng.integers(2**31, size=2))
    return [
        (f"speed {f:.2f}", lambda a: speed(a, f)),
        (f"pitch {st:+.1f}", lambda a: pitch(a, st)),
        (f"noise {snr:.0f} dB", lambda a: noise(a, snr, np.random.default_rng(noise_seed))),
        (f"reverb {rt:.1f} s", lambda a: reverb(a, rt, np.random.default_rng(room_seed))),
    ]

"""Prosody: how something was said, measured from the signal and read against the speaker's own habits.

Pitch level and range, loudness, speaking rate, pauses and two voice-quality measures (harmonicity, spectral tilt)
are computed with plain numpy (autocorrelation pitch on 40 ms frames, 10 ms hop). Absolute values say more about
the speaker than the moment (a deep voice is not a sad one), so :class:`SpeakerBaseline` keeps running statistics
per speaker and every judgement uses z-scores against them; until a speaker has a few utterances, population
priors stand in and confidence stays low. Arousal and cues such as ``pitch_up`` or ``fast_speech`` come from those
z-scores. Nothing here is learned from data, so this path carries no dataset licence (the commercial-safe one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from empathic.perception.estimates import Cue, ModalityEstimate
from empathic.perception.voice.audio import RATE, check_signal

FRAME = 640  # 40 ms: two periods of a 50 Hz voice
HOP = 160  # 10 ms
F0_MIN, F0_MAX = 60.0, 420.0
VOICING = 0.45
"""Normalised autocorrelation peak above which a frame counts as voiced."""

FEATURES = (
    "pitch_st",
    "pitch_range_st",
    "energy_db",
    "energy_var_db",
    "rate_sps",
    "pause_ratio",
    "harmonicity",
    "tilt_db",
)
PRIORS: dict[str, tuple[float, float]] = {
    "pitch_st": (7.0, 5.0),  # semitones re 100 Hz; mixes men (~120 Hz) and women (~210 Hz)
    "pitch_range_st": (6.0, 3.0),
    "energy_db": (-24.0, 6.0),
    "energy_var_db": (7.0, 2.5),
    "rate_sps": (4.0, 1.2),
    "pause_ratio": (0.15, 0.1),
    "harmonicity": (0.75, 0.08),
    "tilt_db": (-18.0, 6.0),
}
"""Population (mean, std) of each feature, used until a speaker's own baseline has enough utterances."""


@dataclass(frozen=True, slots=True)
class Prosody:
    """Prosodic measures of one utterance; ``voiced_s`` is how much voiced speech they rest on."""

    pitch_st: float
    pitch_range_st: float
    energy_db: float
    energy_var_db: float
    rate_sps: float
    pause_ratio: float
    harmonicity: float
    tilt_db: float
    voiced_s: float
    duration_s: float

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f) for f in FEATURES], dtype=np.float64)


def _frames(x: np.ndarray) -> np.ndarray:
    n = 1 + max(0, (x.size - FRAME) // HOP)
    if x.size < FRAME:
        x = np.pad(x, (0, FRAME - x.size))
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    return x[idx]


def _pitch(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f0 Hz or 0, autocorrelation peak) per frame, by normalised autocorrelation with parabolic refinement."""
    f = frames - frames.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(f * np.hanning(FRAME), 2 * FRAME, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :FRAME]
    # divide by the window's own autocorrelation so long lags are not penalised
    w_ac = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(FRAME), 2 * FRAME)) ** 2)[:FRAME]
    ac = ac / np.maximum(w_ac, 1e-9)
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lo, hi = int(RATE / F0_MAX), int(RATE / F0_MIN)
    seg = ac[:, lo:hi]
    k = seg.argmax(axis=1)
    peak = seg[np.arange(len(k)), k]
    left = seg[np.arange(len(k)), np.maximum(k - 1, 0)]
    right = seg[np.arange(len(k)), np.minimum(k + 1, seg.shape[1] - 1)]
    denom = left - 2 * peak + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    lag = lo + k + np.clip(shift, -1, 1)
    f0 = np.where(peak >= VOICING, RATE / lag, 0.0)
    return f0, peak


def _track(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frames of ``audio``, their energy (dB), f0 (Hz, 0 unvoiced) and autocorrelation peak: what every measure
    here starts from."""
    frames = _frames(audio.astype(np.float64))
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    f0, peak = _pitch(frames)
    return frames, energy, f0, peak


def _semitones(f0: np.ndarray) -> np.ndarray:
    """Pitch in semitones above 100 Hz, the scale every pitch statistic here is taken on."""
    return 12 * np.log2(f0 / 100.0)


def measure(audio: np.ndarray, words: int | None = None) -> Prosody | None:
    """Prosody of one utterance (16 kHz mono float); None when it has too little voiced speech to measure.

    ``words`` (from the transcript) gives the speaking rate as syllables per second at ~1.4 syllables per word;
    without it, voiced runs stand in for syllables.
    """
    if not check_signal(audio).usable or audio.size < FRAME:
        return None
    frames, energy, f0, peak = _track(audio)
    active = energy > energy.max() - 30.0
    voiced = (f0 > 0) & active
    voiced_s = voiced.sum() * HOP / RATE
    if voiced_s < 0.15:
        return None
    st = _semitones(f0[voiced])
    lo, med, hi = np.percentile(st, [10, 50, 90])
    span = np.flatnonzero(active)
    inside = active[span[0] : span[-1] + 1]
    duration = max(len(inside) * HOP / RATE, 1e-3)
    pauses = _runs(~inside)
    pause_ratio = sum(r for r in pauses if r >= 15) / len(inside)  # pauses of 150 ms or more
    rate = 1.4 * words / duration if words else sum(1 for r in _runs(voiced) if r >= 5) / duration
    spectrum = np.abs(np.fft.rfft(frames[voiced] * np.hanning(FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(FRAME, 1 / RATE)
    low = spectrum[:, (freqs >= 50) & (freqs < 1000)].sum(axis=1) + 1e-12
    high = spectrum[:, (freqs >= 1000) & (freqs < 4000)].sum(axis=1) + 1e-12
    return Prosody(
        pitch_st=float(med),
        pitch_range_st=float(hi - lo),
        energy_db=float(energy[voiced].mean()),
        energy_var_db=float(energy[active].std()),
        rate_sps=float(rate),
        pause_ratio=float(pause_ratio),
        harmonicity=float(peak[voiced].mean()),
        tilt_db=float(10 * np.log10(high / low).mean()),
        voiced_s=float(voiced_s),
        duration_s=float(duration),
    )


def final_lowering(audio: np.ndarray, tail_frames: int = 8) -> float | None:
    """How far (semitones) the pitch of the last ``tail_frames`` voiced frames (80 ms) lies below the utterance's
    median pitch; None with too little voiced speech. Statements end low ("final lowering"), a phrase broken off
    mid-sentence near the speaker's usual pitch."""
    if audio.size < FRAME:
        return None
    _, energy, f0, _ = _track(audio)
    voiced = np.flatnonzero((f0 > 0) & (energy > energy.max() - 20.0))
    if voiced.size < 3 * tail_frames:
        return None
    st = _semitones(f0[voiced])
    median = np.median(st)
    octave = np.abs(np.abs(st - median) - 12.0) < 2.0  # the tracker's octave errors (quiet frames), folded back
    st = np.where(octave, st - 12.0 * np.sign(st - median), st)
    return float(median - np.median(st[-tail_frames:]))


def _runs(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True in ``mask``."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(padded)
    return list(np.flatnonzero(d == -1) - np.flatnonzero(d == 1))


@dataclass
class SpeakerBaseline:
    """Running mean and variance of each feature for one speaker, shrunk toward :data:`PRIORS`.

    The priors count as ``prior_weight`` utterances, so the first utterance is read against the population and
    the speaker's own habits take over as they talk.
    """

    prior_weight: float = 2.0
    n: int = 0
    _sum: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    _sq: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))

    def z(self, p: Prosody) -> dict[str, float]:
        """z-scores of ``p`` against this speaker so far (before adding it)."""
        mu0 = np.array([PRIORS[f][0] for f in FEATURES])
        sd0 = np.array([PRIORS[f][1] for f in FEATURES])
        k = self.prior_weight
        mean = (k * mu0 + self._sum) / (k + self.n)
        var = (k * (sd0**2 + mu0**2) + self._sq) / (k + self.n) - mean**2
        sd = np.sqrt(np.maximum(var, (0.3 * sd0) ** 2))
        return dict(zip(FEATURES, np.clip((p.vector() - mean) / sd, -4, 4).tolist(), strict=True))

    def add(self, p: Prosody) -> None:
        v = p.vector()
        self.n += 1
        self._sum += v
        self._sq += v**2


# (cue, feature, sign, emotions it supports)
_CUES = (
    ("pitch_up", "pitch_st", 1, ("surprise", "fear", "happy")),
    ("pitch_down", "pitch_st", -1, ("sad",)),
    ("wide_pitch_range", "pitch_range_st", 1, ("happy", "surprise", "angry")),
    ("monotone", "pitch_range_st", -1, ("sad", "boredom")),
    ("loud", "energy_db", 1, ("angry", "frustration")),
    ("soft", "energy_db", -1, ("sad",)),
    ("fast_speech", "rate_sps", 1, ("angry", "fear", "happy")),
    ("slow_speech", "rate_sps", -1, ("sad", "boredom", "contemplation")),
    ("long_pauses", "pause_ratio", 1, ("confusion", "contemplation")),
    ("tense_voice", "tilt_db", 1, ("angry", "frustration")),
    ("breathy_voice", "harmonicity", -1, ("sad", "fear")),
)
_AROUSAL_WEIGHTS = {"energy_db": 0.45, "pitch_st": 0.3, "pitch_range_st": 0.2, "rate_sps": 0.15, "tilt_db": 0.25}
CUE_Z = 1.0
"""How many of the speaker's standard deviations a feature must move to become a cue."""


def arousal_and_cues(z: dict[str, float], p: Prosody) -> tuple[float, tuple[Cue, ...]]:
    """Arousal in [-1, 1] from a weighted sum of z-scores, and the cues whose feature moved past :data:`CUE_Z`."""
    arousal = math.tanh(0.6 * sum(w * z[f] for f, w in _AROUSAL_WEIGHTS.items()))
    cues = []
    for name, feat, sign, supports in _CUES:
        v = sign * z[feat]
        if v >= CUE_Z:
            text = f"{getattr(p, feat):.1f}" if feat in ("rate_sps",) else ""
            cues.append(Cue(name, min(1.0, v / 3.0), "voice", text, supports))
    cues.sort(key=lambda c: -c.value)
    return arousal, tuple(cues)


class ProsodyAnalyzer:
    """Per-speaker prosody: measure, compare with the speaker's baseline, then learn from the utterance."""

    def __init__(self, prior_weight: float = 2.0) -> None:
        self.baselines: dict[str, SpeakerBaseline] = {}
        self.prior_weight = prior_weight

    def analyse(
        self, audio: np.ndarray, t: float, *, words: int | None = None, speaker: str = "user"
    ) -> tuple[ModalityEstimate, Prosody | None]:
        """A prosody-only voice estimate (arousal and cues, no categories) and the raw measures."""
        p = measure(audio, words)
        if p is None:
            reason = check_signal(audio).reason or "too little voiced speech"
            return ModalityEstimate.unknown("voice", t, reason, source="prosody"), None
        base = self.baselines.setdefault(speaker, SpeakerBaseline(self.prior_weight))
        z = base.z(p)
        base.add(p)
        arousal, cues = arousal_and_cues(z, p)
        # trust grows with the speaker's history and with how much voiced speech there was
        confidence = min(0.6, 0.2 + 0.1 * min(base.n - 1, 3) + 0.05 * min(p.voiced_s, 2.0))
        return ModalityEstimate("voice", t, {}, 0.0, arousal, confidence, cues, source="prosody"), p

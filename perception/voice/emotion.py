"""Categorical vocal emotion: a linear probe on pooled whisper-base encoder states.

Whisper's encoder already hears tone of voice; a logistic regression on the mean and std of its states over an
utterance separates RAVDESS's eight acted emotions far better than hand-made pitch and MFCC features (0.70 vs 0.39
on unseen actors in a quick trial). It reuses the transcription's encoder pass, so emotion adds only a matrix
product. The head is trained by :mod:`perception.voice.train` on RAVDESS (CC BY-NC-SA 4.0): non-commercial.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.registry import ModelRegistry, default_registry

HEAD_ID = "voice-emotion-ravdess"
HEAD_CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise")
"""The head's eight classes: RAVDESS's, with fearful/surprised named as in the basic set."""
HIGH_AROUSAL = frozenset({"angry", "fear", "happy", "surprise", "disgust"})
"""Classes counted as high arousal when scoring arousal (neutral, calm and sad are low)."""
TO_BASIC = {c: ("neutral" if c == "calm" else c) for c in HEAD_CLASSES}
"""Calm is no basic emotion: its probability goes to neutral."""


def to_basic(probs: dict[str, float]) -> dict[str, float]:
    """Head probabilities folded onto :data:`BASIC_EMOTIONS`."""
    out = dict.fromkeys(BASIC_EMOTIONS, 0.0)
    for label, p in probs.items():
        out[TO_BASIC[label]] += p
    total = sum(out.values())
    return {k: v / total for k, v in out.items()} if total > 0 else {}


@dataclass(slots=True, eq=False)
class SpeakerCentring:
    """Running mean of one speaker's embeddings, shrunk toward the training mean, subtracted from each new one.

    Whisper's states say a lot about who is talking; removing the speaker's average leaves more of how they feel
    (0.66 -> 0.73 accuracy on unseen actors). ``prior_weight`` is how many utterances the training mean counts as,
    so the first utterance of a new speaker is read against everyone.
    """

    prior: np.ndarray
    prior_weight: float
    total: np.ndarray | None = None
    n: int = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.total = x.astype(np.float64) if self.total is None else self.total + x
        self.n += 1
        return x - (self.prior_weight * self.prior + self.total) / (self.prior_weight + self.n)


@dataclass(frozen=True, slots=True, eq=False)
class LinearHead:
    """Standardise, then softmax(W x + b): everything a trained probe needs, saved as one small .npz.

    ``speaker_prior`` and ``prior_weight`` configure :class:`SpeakerCentring`, which the head was trained behind.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    classes: tuple[str, ...]
    speaker_prior: np.ndarray
    prior_weight: float

    def centring(self) -> SpeakerCentring:
        """A fresh running baseline for a new speaker."""
        return SpeakerCentring(self.speaker_prior, self.prior_weight)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for features ``x`` of shape (features,) or (n, features)."""
        z = (np.atleast_2d(x).astype(np.float64) - self.mean) / self.scale
        logits = z @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        return p[0] if np.ndim(x) == 1 else p

    def probs(self, x: np.ndarray) -> dict[str, float]:
        """One example's probabilities by class name."""
        return {c: float(p) for c, p in zip(self.classes, self.predict_proba(x), strict=True)}

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            classes=np.array(self.classes),
            speaker_prior=self.speaker_prior.astype(np.float32),
            prior_weight=np.array(self.prior_weight),
        )

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                z["mean"].astype(np.float64),
                z["scale"].astype(np.float64),
                z["coef"].astype(np.float64),
                z["intercept"].astype(np.float64),
                tuple(str(c) for c in z["classes"]),
                z["speaker_prior"].astype(np.float64),
                float(z["prior_weight"]),
            )


def load_head(registry: ModelRegistry | None = None, *, commercial: bool = False) -> LinearHead:
    """The shipped head, verified against the registry (raises LicenseError when ``commercial``)."""
    return LinearHead.load(
        (registry or default_registry()).resolve(HEAD_ID, commercial=commercial) / "emotion_head.npz"
    )


@functools.cache
def shared_head(commercial: bool = False) -> LinearHead:
    """The shipped head from the default registry, loaded once per process (it is read-only)."""
    return load_head(commercial=commercial)

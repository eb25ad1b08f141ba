"""What action units say about emotions and complex states, and how geometry is fused with the classifier.

``SUPPORTS`` is the EMFACS reading of each unit (Ekman & Friesen), used to explain cues. Fusion multiplies the
classifier's distribution by ``exp(weight x evidence)`` for the emotions in ``FUSED`` only: on the development
splits the full set of prototypes helped posed faces (CK+) but hurt in-the-wild faces (FER2013), while the
disgust signature (nose wrinkler and upper-lip raiser without a lip press) helped both, because the classifier,
trained on a set with few disgust faces, reads most of them as anger.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from empathic.perception.labels import BASIC_EMOTIONS

SUPPORTS: Mapping[str, tuple[str, ...]] = {
    "AU1+2": ("surprise", "fear", "interest"),
    "AU4": ("angry", "fear", "sad", "confusion"),
    "AU7": ("angry", "disgust", "contemplation"),
    "AU9": ("disgust",),
    "AU10": ("disgust",),
    "AU12": ("happy",),
    "AU15": ("sad", "disgust"),
    "AU24": ("angry", "frustration"),
    "AU25": ("surprise", "fear", "happy"),
    "AU26": ("surprise", "fear"),
    "AU14U": ("skepticism",),
}
FUSED: Mapping[str, Mapping[str, float]] = {"disgust": {"AU9": 1.0, "AU10": 1.0, "AU24": -0.5}}
DEFAULT_WEIGHT = 2.0


def supported_by(code: str) -> tuple[str, ...]:
    return SUPPORTS.get(code, ())


def fuse(probs: Mapping[str, float], aus: Mapping[str, float], weight: float = DEFAULT_WEIGHT) -> dict[str, float]:
    """The classifier's distribution reweighted by action-unit evidence (``weight`` 0 leaves it as it is)."""
    if weight == 0.0 or not aus:
        return dict(probs)
    logits = np.log(np.maximum([probs.get(e, 0.0) for e in BASIC_EMOTIONS], 1e-6))
    for i, e in enumerate(BASIC_EMOTIONS):
        logits[i] += weight * sum(w * aus.get(code, 0.0) for code, w in FUSED.get(e, {}).items())
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return {e: float(v) for e, v in zip(BASIC_EMOTIONS, p, strict=True)}


def complex_states(aus: Mapping[str, float], aversion: float) -> dict[str, float]:
    """Complex states with facial evidence: knitted brows read as confusion, a one-sided lip corner as
    skepticism, looking away as contemplation, raised brows while looking on as interest."""
    brow = aus.get("AU4", 0.0)
    return {
        "confusion": min(1.0, 0.6 * brow + 0.3 * aus.get("AU7", 0.0) * brow),
        "skepticism": min(1.0, 0.8 * aus.get("AU14U", 0.0) * (1.0 - 0.5 * aus.get("AU12", 0.0))),
        "contemplation": min(1.0, 0.5 * aversion + 0.2 * brow),
        "interest": min(1.0, 0.4 * aus.get("AU1+2", 0.0) * (1.0 - aversion)),
        "boredom": min(1.0, 0.4 * aus.get("AU7", 0.0) * aversion),
    }

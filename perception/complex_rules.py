"""Complex states from combined cues: the documented rules fusion applies on top of what each perceiver says.

Each rule reads an :class:`Evidence` summary of the fused moment and returns a score in [0, 1] with its reason.
``cue_support[label]`` is the noisy-OR of every fresh cue that supports ``label`` (brow lowerer, hedges, doubt
words, gaze aversion, pauses, ...), each counted with its modality's weight, so cues from face, voice and words
add up while one weak hint stays weak. A state's final score is the larger of the rule's and the perceivers' own.

| state | rule |
|---|---|
| confusion | cues for confusion: brow lowerer, head tilt, questions, hedges, long pauses |
| frustration | cues for frustration (repetition, "still", "again"), or negative valence with arousal high or rising |
| skepticism | cues for skepticism: one-sided lip corner, raised brows with doubt words |
| contemplation | cues for contemplation (gaze aversion, stillness, pauses before answering), damped by high arousal |
| boredom | cues for boredom (yawns, looking away, short flat answers), or very low arousal |
| interest | cues for interest, or positive valence with arousal up |
| mixed | cues for mixed feelings, positive and negative evidence at once, or modalities whose valence |
|  | disagrees (a smile with negative words: masking or sarcasm) |
| sarcasm | cues for sarcasm in the words ("oh great", praise over a bad situation), or incongruence: a smiling |
|  | face or upbeat voice while the words are negative |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

POSITIVE = ("happy",)
NEGATIVE = ("sad", "angry", "fear", "disgust")


@dataclass(frozen=True, slots=True)
class Evidence:
    """The fused moment as the rules see it."""

    valence: float
    arousal: float
    arousal_trend: float
    probs: dict[str, float]
    cue_support: dict[str, float] = field(default_factory=dict)
    modality_valence: dict[str, float] = field(default_factory=dict)

    def support(self, label: str) -> float:
        return self.cue_support.get(label, 0.0)


def _clip(x: float) -> float:
    return max(0.0, min(1.0, x))


def _or(*xs: float) -> float:
    out = 1.0
    for x in xs:
        out *= 1.0 - _clip(x)
    return 1.0 - out


def confusion(e: Evidence) -> float:
    return e.support("confusion")


def frustration(e: Evidence) -> float:
    charged = _clip(-e.valence) * _clip(0.5 + e.arousal + e.arousal_trend)
    return _or(e.support("frustration"), 0.8 * charged)


def skepticism(e: Evidence) -> float:
    return e.support("skepticism")


def contemplation(e: Evidence) -> float:
    return e.support("contemplation") * (1.0 - _clip(e.arousal))


def boredom(e: Evidence) -> float:
    return _or(e.support("boredom"), _clip(-e.arousal - 0.4))


def interest(e: Evidence) -> float:
    return _or(e.support("interest"), 0.6 * _clip(e.valence) * _clip(e.arousal + 0.3))


def mixed(e: Evidence) -> float:
    both = 2.0 * min(sum(e.probs.get(k, 0.0) for k in POSITIVE), sum(e.probs.get(k, 0.0) for k in NEGATIVE))
    values = list(e.modality_valence.values())
    clash = max((min(a, -b) for a in values for b in values if a > 0.2 and b < -0.2), default=0.0)
    return _or(e.support("mixed"), both, 1.5 * clash)


def sarcasm(e: Evidence) -> float:
    words = e.modality_valence.get("text")
    if words is None:
        return e.support("sarcasm")
    upbeat = max(e.modality_valence.get("face", 0.0), e.modality_valence.get("voice", 0.0))
    incongruence = min(_clip(upbeat), _clip(-words))
    return _or(e.support("sarcasm"), 1.2 * incongruence)


RULES: dict[str, Callable[[Evidence], float]] = {
    "confusion": confusion,
    "frustration": frustration,
    "skepticism": skepticism,
    "contemplation": contemplation,
    "boredom": boredom,
    "interest": interest,
    "mixed": mixed,
    "sarcasm": sarcasm,
}

"""The label sets every modality maps onto, and where each basic emotion sits in valence/arousal space."""

from __future__ import annotations

from typing import Final

BASIC_EMOTIONS: Final = ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")
"""The seven basic categories; probabilities over them sum to one."""

COMPLEX_STATES: Final = (
    "confusion",
    "frustration",
    "skepticism",
    "contemplation",
    "boredom",
    "interest",
    "mixed",
    "sarcasm",
)
"""States people show in service and learning; each is scored on its own in [0, 1], not exclusive."""

INTENTS: Final = (
    "handover_request",
    "declines_handover",
    "thanks",
    "closing",
    "greeting",
    "question",
    "complaint",
    "answer_attempt",
    "correction",
    "agreement",
    "insight",
)
"""What a turn does, beside how it feels: asks for a person, turns one down, thanks, complains, gets it ("insight")."""

LABEL_WORDS: Final[dict[str, tuple[str, str]]] = {
    "neutral": ("neutral", "neutrality"),
    "happy": ("happy", "happiness"),
    "sad": ("sad", "sadness"),
    "angry": ("angry", "anger"),
    "fear": ("afraid", "fear"),
    "disgust": ("disgusted", "disgust"),
    "surprise": ("surprised", "surprise"),
    "confusion": ("confused", "confusion"),
    "frustration": ("frustrated", "frustration"),
    "skepticism": ("skeptical", "skepticism"),
    "contemplation": ("thoughtful", "contemplation"),
    "boredom": ("bored", "boredom"),
    "interest": ("interested", "interest"),
    "mixed": ("torn", "mixed feelings"),
    "sarcasm": ("sarcastic", "sarcasm"),
}
"""(adjective, noun) per label, so explanations read "Looks surprised" and "Signs of mixed feelings"."""

# Circumplex positions (valence, arousal) in [-1, 1], after Russell (1980) and the NRC VAD lexicon means.
CIRCUMPLEX: Final[dict[str, tuple[float, float]]] = {
    "neutral": (0.0, 0.0),
    "happy": (0.8, 0.45),
    "sad": (-0.7, -0.4),
    "angry": (-0.65, 0.75),
    "fear": (-0.6, 0.65),
    "disgust": (-0.7, 0.3),
    "surprise": (0.15, 0.8),
}


def adjective(label: str) -> str:
    """ "surprised" for ``surprise``; unknown labels as they are."""
    return LABEL_WORDS.get(label, (label, label))[0]


def noun(label: str) -> str:
    """ "mixed feelings" for ``mixed``; unknown labels as they are."""
    return LABEL_WORDS.get(label, (label, label))[1]


def valence_arousal(probs: dict[str, float] | None) -> tuple[float, float]:
    """Expected valence and arousal of a distribution over basic emotions."""
    if not probs:
        return 0.0, 0.0
    v = sum(p * CIRCUMPLEX[k][0] for k, p in probs.items())
    a = sum(p * CIRCUMPLEX[k][1] for k, p in probs.items())
    return v, a

"""Words and patterns that point at emotions and at complex states (hedges, questions, "still", "again", ...).

Each pattern names the labels it supports and how strongly one match counts; several matches combine as a
noisy-OR, so two weak hints count more than one but never reach certainty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathic.perception.estimates import Cue


@dataclass(frozen=True, slots=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]
    supports: tuple[str, ...]
    strength: float


def _p(name: str, pattern: str, supports: tuple[str, ...], strength: float) -> _Pattern:
    return _Pattern(name, re.compile(pattern, re.IGNORECASE), supports, strength)


PATTERNS: tuple[_Pattern, ...] = (
    # complex states
    _p(
        "hedge",
        r"\b(i'?m not sure|not sure|maybe|perhaps|i guess|i think|kind of|sort of|i suppose)\b",
        ("confusion", "contemplation"),
        0.3,
    ),
    _p(
        "question",
        r"\?|^\s*(what|why|how|which|where|when|can|could|is|does|do)\b",
        ("confusion", "interest"),
        0.25,
    ),
    _p(
        "confusion_words",
        r"\b(confus\w*|(don'?t|do not|doesn'?t) (get|understand|follow)|(doesn'?t|does not) make sense|i'?m lost"
        r"|what do you mean|no idea|huh)\b",
        ("confusion",),
        0.6,
    ),
    _p(
        "repetition",
        r"\b(still|again|already|keeps?|every time|(second|third|fourth|fifth) time|for the \w+ time)\b",
        ("frustration",),
        0.4,
    ),
    _p(
        "frustration_words",
        r"\b(frustrat\w*|annoy\w*|fed up|sick of|tired of|ridiculous|useless|waste of (my )?time|give up|ugh+|argh+"
        r"|unacceptable|doesn'?t work|not working|nothing works)\b",
        ("frustration",),
        0.55,
    ),
    _p(
        "doubt",
        r"\b(really\?|doubt\w*|not convinced|sure about that|too good to be true|yeah,? right|skeptic\w*"
        r"|suspicious|prove it|i don'?t buy)",
        ("skepticism",),
        0.55,
    ),
    _p(
        "pondering",
        r"\b(hmm+|let me think|thinking about|wondering|ponder\w*|on the other hand|considering)\b",
        ("contemplation",),
        0.45,
    ),
    _p(
        "boredom_words",
        r"\b(bor(ed|ing)|whatever|meh|so what|don'?t care|tedious|yawn\w*|this again)\b",
        ("boredom",),
        0.55,
    ),
    _p(
        "interest_words",
        r"\b(interesting|fascinat\w*|tell me more|curious|cool|how does|why does|love to know"
        r"|want to learn|neat)\b",
        ("interest",),
        0.5,
    ),
    _p("contrast", r"\b(but|although|though|however|yet)\b", ("mixed",), 0.2),
    # basic emotions
    _p(
        "anger_words",
        r"\b(angry|furious|mad|outrag\w*|hate|terrible|worst|pissed|livid|rude|scam)\b",
        ("angry",),
        0.6,
    ),
    _p(
        "sadness_words",
        r"\b(sad|unhappy|disappoint\w*|depress\w*|lonely|heartbroken|upset|cry\w*|miss(ed)? (him|her|it)"
        r"|down)\b",
        ("sad",),
        0.55,
    ),
    _p(
        "fear_words",
        r"\b(afraid|scared|worr(y|ied)|anxious|nervous|terrified|panic\w*|frighten\w*)\b",
        ("fear",),
        0.6,
    ),
    _p("disgust_words", r"\b(disgust\w*|gross|nasty|revolting|sickening|eww+)\b", ("disgust",), 0.6),
    _p(
        "surprise_words",
        r"\b(wow|surpris\w*|unexpected|shock\w*|can'?t believe|no way|whoa)\b",
        ("surprise",),
        0.5,
    ),
    _p(
        "joy_words",
        r"\b(happy|glad|great|thanks|thank you|awesome|love|perfect|excellent|wonderful|delighted)\b",
        ("happy",),
        0.45,
    ),
    # not an emotion: the user asks for a person; policies read it
    _p(
        "asks_for_human",
        r"\b(speak|talk|chat) (to|with) (a |an |your |the )?(human|person|agent|manager|supervisor"
        r"|someone|representative|somebody)\b|\breal person\b",
        ("frustration",),
        0.3,
    ),
)


@dataclass(frozen=True, slots=True)
class TextCues:
    """What the patterns found in one text: the cues and, per label, the combined support in [0, 1]."""

    cues: tuple[Cue, ...]
    support: dict[str, float]
    exclamations: int
    caps_ratio: float

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.cues)


def find_cues(text: str) -> TextCues:
    """Match every pattern against ``text``."""
    cues: list[Cue] = []
    doubt: dict[str, float] = {}
    for pat in PATTERNS:
        match = pat.regex.search(text)
        if not match:
            continue
        cues.append(Cue(pat.name, pat.strength, "text", match.group(0).strip() or pat.name, pat.supports))
        for label in pat.supports:
            doubt[label] = doubt.get(label, 1.0) * (1.0 - pat.strength)
    letters = [w for w in re.findall(r"[A-Za-z]{3,}", text)]
    caps = sum(w.isupper() for w in letters) / len(letters) if letters else 0.0
    return TextCues(tuple(cues), {k: 1.0 - v for k, v in doubt.items()}, text.count("!"), caps)

"""VADER with a bounded cost, and the cheap sentence scores that pick what a long turn is read by.

VADER's ``polarity_scores`` is quadratic in the number of words: for every sentiment word it lower-cases the whole
word list again (negation and idiom checks), its "but" rule calls ``list.index`` per word, and every emoji becomes
several description words first. A 4,000-emoji turn took seconds. Here VADER only ever sees emoji-free pieces of
at most :data:`MAX_TOKENS` words: a turn that short is scored exactly as VADER would (the heads were trained on
that), a longer one sentence by sentence. The pieces' compound scores are averaged with the later and the more
emotional ones counting more (a long, calm account ending in anger is angry); the word shares by length.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from empathic.perception.text.emoji import EMOJI
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

MAX_TOKENS = 60
"""Longest piece VADER scores at once; its cost per piece is then bounded."""
MAX_SENTENCE_CHARS = 400
"""A "sentence" without punctuation (pasted logs, emoji walls) is cut into pieces of at most this length."""

_SENTENCE = re.compile(r"[^.!?…\n]+[.!?…]*|[.!?…\n]+")
_WORD = re.compile(r"[a-z']+")


@cache
def analyzer() -> SentimentIntensityAnalyzer:
    """One shared VADER (its lexicon takes tens of milliseconds to load)."""
    return SentimentIntensityAnalyzer()


@dataclass(frozen=True, slots=True)
class Polarity:
    """VADER's scores: ``compound`` in [-1, 1] and the shares of positive, negative and neutral words."""

    compound: float
    pos: float
    neg: float
    neu: float


def sentences(text: str) -> list[tuple[int, str]]:
    """(start offset, sentence) pairs covering ``text``; long sentences are cut at a space near the limit."""
    out: list[tuple[int, str]] = []
    for m in _SENTENCE.finditer(text):
        start, piece = m.start(), m.group(0)
        while len(piece) > MAX_SENTENCE_CHARS:
            cut = piece.rfind(" ", MAX_SENTENCE_CHARS // 2, MAX_SENTENCE_CHARS)
            cut = cut if cut > 0 else MAX_SENTENCE_CHARS
            out.append((start, piece[:cut]))
            start, piece = start + cut, piece[cut:]
        if piece.strip():
            out.append((start, piece))
    return out


def strength(sentence: str) -> float:
    """How emotional a sentence is by VADER's word lexicon alone (no rules): cheap, linear, for ranking only."""
    lexicon = analyzer().lexicon
    words = _WORD.findall(sentence.lower())
    total = sum(abs(lexicon.get(w, 0.0)) for w in words)
    return total / math.sqrt(len(words) + 1) + 0.5 * sentence.count("!") ** 0.5


def polarity(text: str) -> Polarity:
    """VADER's scores of ``text`` with emoji left out (:mod:`.emoji` reads them); bounded cost per word."""
    plain = EMOJI.sub(" ", text)
    if len(plain.split()) <= MAX_TOKENS:
        return _score(plain)
    pieces: list[str] = []
    for _, sentence in sentences(plain):
        words = sentence.split()
        pieces.extend(" ".join(words[i : i + MAX_TOKENS]) for i in range(0, len(words), MAX_TOKENS))
    scored = [(len(p.split()), 1.0 + i / len(pieces), _score(p)) for i, p in enumerate(pieces)]
    by_strength = [(late * (0.1 + abs(s.compound)), s) for _, late, s in scored]
    by_words = [(n * late, s) for n, late, s in scored]
    return Polarity(
        _mean(by_strength, "compound"), _mean(by_words, "pos"), _mean(by_words, "neg"), _mean(by_words, "neu")
    )


def _mean(weighted: list[tuple[float, Polarity]], key: str) -> float:
    total = sum(w for w, _ in weighted)
    return sum(w * getattr(s, key) for w, s in weighted) / total if total else 0.0


def _score(text: str) -> Polarity:
    s = analyzer().polarity_scores(text)
    return Polarity(float(s["compound"]), float(s["pos"]), float(s["neg"]), float(s["neu"]))

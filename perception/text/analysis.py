"""One user turn read within a fixed budget, and what words-only models miss: emoji, irony, other languages.

Long turns. A turn over :data:`LONG_TURN` characters is read as a whole but not word for word: people end a long
message with what matters most, so its last :data:`TAIL_CHARS` characters are kept, plus the few most emotional
earlier sentences by VADER's word lexicon (a cheap, linear scan). Everything after that (VADER's rules, the cue
patterns, intents, the embedding of at most two passages) reads this bounded excerpt, so the cost is linear in
the length of the turn with a small constant and capped for the expensive parts.

After the model. :func:`finish` folds into a model's draft estimate what it cannot see: the emoji (most are unknown
tokens to MiniLM), sarcasm (praise words read as joy; a sarcastic turn must read as negative), and a language the
model does not read (low confidence and a ``language`` cue, never a confident neutral). It also attaches the cues
and intents, so every text perceiver explains itself the same way.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, replace

from empathic.perception.estimates import Cue, Intent, ModalityEstimate
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.text.cues import SARCASTIC, TextCues, find_cues
from empathic.perception.text.emoji import EmojiReading, read_emoji
from empathic.perception.text.intents import detect_intents
from empathic.perception.text.language import detect_language
from empathic.perception.text.sentiment import Polarity, polarity, sentences, strength

LONG_TURN = 600
"""Turns longer than this (characters) are read through an excerpt and embedded as two short passages: MiniLM
reads 128 tokens (about 550 characters) of a passage, and from its start, so a longer turn would lose its ending."""
TAIL_CHARS = 1000
"""How much of a long turn's ending is always read (VADER, cues, intents)."""
TOP_SENTENCES = 3
TOP_CHARS = 600
"""At most this many of the strongest earlier sentences, and characters of them, join the ending."""
MIN_STRENGTH = 0.5
"""A sentence with less lexicon strength than this says nothing emotional and is not picked."""
ENDING_CHARS = 150
PASSAGE_CHARS = 300
"""The ending passage: the last sentences of at least ``ENDING_CHARS``, at most ``PASSAGE_CHARS`` characters. With
the strongest sentences (at most ``PASSAGE_CHARS`` too) that is about 130 tokens to embed, whatever the length."""
LOW_CONFIDENCE = 0.2
"""Confidence cap for a turn in a language the text models do not read."""

_WORDS = re.compile(r"[^\W_]+")
"""Words for weighing emoji against: runs of letters or digits (an emoji is not one)."""
_IRONY_TARGETS = {"angry": 0.5, "disgust": 0.25, "sad": 0.25}
"""Where the joy a sarcastic turn seems to express goes: annoyance mostly, some contempt and disappointment."""
_DISCONTENT = {"handover_request": (0.8, 0.5)}
"""Intents that mean the person is not content: (share of happy, share of neutral) moved to negative emotions at
full intent confidence. Asking for a person reads as neither pleased nor calm ("I want a real person."), unless the
same turn thanks. Complaints are left to the model: their words also appear in calm reports and jokes."""
_LITERAL_ONLY = ("thanks", "agreement", "insight")
"""Intents a sarcastic turn does not have, whatever its words say."""
_DISCONTENT_TARGETS = {"angry": 0.6, "sad": 0.4}
FRUSTRATED = 0.55
"""Frustration from which words read as discontent in the basic emotions too, not as a neutral report."""


def _toward_discontent(
    probs: dict[str, float], valence: float, from_happy: float, from_neutral: float, push: float
) -> float:
    """Move shares of happy and neutral to anger and sadness (in place); returns the lowered valence."""
    moved = from_happy * probs["happy"] + from_neutral * probs["neutral"]
    probs["happy"] -= from_happy * probs["happy"]
    probs["neutral"] -= from_neutral * probs["neutral"]
    for e, share in _DISCONTENT_TARGETS.items():
        probs[e] += share * moved
    return min(valence, (1 - from_happy) * valence - push)


@dataclass(frozen=True, slots=True)
class TurnReading:
    """The model-independent reading of one turn.

    ``text`` is what the models read (the whole turn, or the excerpt of a long one); ``passages`` the (text, weight)
    pairs to embed, the ending first; ``words`` counts the words of ``text``, emoji not included (to weigh emoji
    against them).
    """

    text: str
    passages: tuple[tuple[str, float], ...]
    polarity: Polarity
    found: TextCues
    emoji: EmojiReading | None
    language: str
    intents: tuple[Intent, ...]
    words: int
    excerpted: bool

    @property
    def sarcasm(self) -> float:
        return self.found.support.get("sarcasm", 0.0)


def _last(parts: list[tuple[int, str]], chars: int) -> int:
    """Index of the first of the last sentences that together reach ``chars`` characters."""
    i, n = len(parts), 0
    while i > 0 and n < chars:
        i -= 1
        n += len(parts[i][1])
    return i


def _clip(text: str, chars: int, *, keep_end: bool) -> str:
    """At most ``chars`` characters of ``text`` from its end or its start, cut at a space where there is one."""
    if len(text) <= chars:
        return text
    if keep_end:
        piece = text[-chars:]
        space = piece.find(" ")
        return piece[space + 1 :] if 0 <= space < chars // 4 else piece
    piece = text[:chars]
    space = piece.rfind(" ")
    return piece[:space] if space > 3 * chars // 4 else piece


def excerpt(text: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    """The bounded text to read and the passages to embed; a short turn is its own excerpt and passage.

    A long turn is embedded as two passages: its last sentences (weight 0.6) and its strongest sentences anywhere
    else (0.4); mean pooling over one long passage would drown the few sentences that carry the feeling.
    """
    if len(text) <= LONG_TURN:
        return text, ((text, 1.0),)
    parts = sentences(text)
    tail, ending = _last(parts, TAIL_CHARS), _last(parts, ENDING_CHARS)
    scores = {i: strength(parts[i][1]) for i in range(ending)}
    chosen, used = [], 0
    for i in heapq.nlargest(TOP_SENTENCES, scores, key=scores.__getitem__):
        if scores[i] >= MIN_STRENGTH and used + len(parts[i][1]) <= TOP_CHARS:
            chosen.append(i)
            used += len(parts[i][1])
    chosen.sort()
    before_tail = " ".join(parts[i][1].strip() for i in chosen if i < tail)
    strongest = _clip(" ".join(parts[i][1].strip() for i in chosen), PASSAGE_CHARS, keep_end=False)
    ending_text = _clip(text[parts[ending][0] :], PASSAGE_CHARS, keep_end=True)
    tail_text = text[parts[tail][0] :]
    passages = ((ending_text, 0.6), (strongest, 0.4)) if strongest else ((ending_text, 1.0),)
    return (f"{before_tail} {tail_text}" if before_tail else tail_text), passages


def read_turn(text: str) -> TurnReading:
    """Read ``text`` (already stripped) within the budget: excerpt, VADER, cues, emoji, language, intents."""
    excerpted, passages = excerpt(text)
    return TurnReading(
        text=excerpted,
        passages=passages,
        polarity=polarity(excerpted),
        found=find_cues(excerpted),
        emoji=read_emoji(excerpted),
        language=detect_language(excerpted),
        intents=detect_intents(excerpted),
        words=len(_WORDS.findall(excerpted)),
        excerpted=len(excerpted) < len(text),
    )


def _emoji_weight(share: float) -> float:
    """How much the emoji count against the words: in proportion to their share of the turn, most of an emoji-only
    turn (the words model then reads unknown tokens), never all of it."""
    return min(0.85, 1.2 * share)


def finish(
    reading: TurnReading, draft: ModalityEstimate, intents: tuple[Intent, ...] | None = None
) -> ModalityEstimate:
    """``draft`` (a model's reading of the words) with emoji, sarcasm and language folded in, cues and intents on."""
    probs = dict(draft.probs) or {e: float(e == "neutral") for e in BASIC_EMOTIONS}
    valence, arousal, confidence = draft.valence, draft.arousal, draft.confidence
    states = dict(draft.complex_states)
    cues = list(draft.cues)

    emoji = reading.emoji
    if emoji is not None:
        share = emoji.weight / (emoji.weight + reading.words)
        w = _emoji_weight(share)
        valence = (1 - w) * valence + w * emoji.valence
        arousal = (1 - w) * arousal + w * emoji.arousal
        supports: tuple[str, ...] = ()
        if emoji.probs is not None:
            w = _emoji_weight(emoji.emotional / (emoji.emotional + reading.words))
            probs = {e: (1 - w) * p + w * emoji.probs[e] for e, p in probs.items()}
            supports = (max(emoji.probs, key=emoji.probs.__getitem__),)
        for s, p in emoji.states.items():
            states[s] = max(states.get(s, 0.0), p * min(1.0, 0.4 + share))
        if emoji.known:
            confidence = max(confidence, 0.3 + 0.4 * share)
        cues.append(Cue("emoji", round(min(1.0, 0.4 + 0.1 * emoji.count), 2), "text", emoji.top, supports))

    intents = reading.intents if intents is None else intents
    if reading.sarcasm >= SARCASTIC:  # "thanks a lot", "yeah, sure" said ironically mean the opposite
        intents = tuple(i for i in intents if i.name not in _LITERAL_ONLY)
    thanked = any(i.name == "thanks" for i in intents)
    for intent in intents:
        if intent.name not in _DISCONTENT or thanked:
            continue
        from_happy, from_neutral = (intent.confidence * share for share in _DISCONTENT[intent.name])
        valence = _toward_discontent(probs, valence, from_happy, from_neutral, 0.2 * intent.confidence)
        states["frustration"] = max(states.get("frustration", 0.0), 0.6 * from_happy)
    frustration = states.get("frustration", 0.0)
    if frustration >= FRUSTRATED and not thanked:  # "I'm fed up", "third time I'm asking": not a calm neutral
        f = min(1.0, (frustration - FRUSTRATED) / (1.0 - FRUSTRATED) + 0.3)
        valence = _toward_discontent(probs, valence, 0.8 * f, 0.6 * f, 0.6 * f)

    irony = reading.sarcasm
    states["sarcasm"] = round(irony, 4)  # the words are the evidence: none found is a reading of 0, not silence
    if irony >= SARCASTIC:
        moved = min(0.95, 0.3 + 0.7 * irony) * probs["happy"]
        probs["happy"] -= moved
        for e, share in _IRONY_TARGETS.items():
            probs[e] += share * moved
        f = min(0.95, 0.3 + 0.7 * irony)
        valence = min(-0.15, (1 - f) * valence - f * 0.55)
        states["frustration"] = max(states.get("frustration", 0.0), 0.5 * irony)

    if reading.language != "en":
        probs = {e: 0.5 * p + 0.5 / len(BASIC_EMOTIONS) for e, p in probs.items()}
        valence *= 0.5
        confidence = min(confidence, LOW_CONFIDENCE)
        cues.append(Cue("language", 1.0, "text", reading.language, ()))

    total = sum(probs.values())
    return replace(
        draft,
        probs={e: p / total for e, p in probs.items()},
        valence=max(-1.0, min(1.0, valence)),
        arousal=max(-1.0, min(1.0, arousal)),
        confidence=round(confidence, 4),
        complex_states=states,
        cues=tuple(cues),
        intents=intents,
    )

"""What emoji say: a small table for the common ones, VADER's emoji descriptions for the rest.

Models trained on words read most emoji as unknown tokens, so a turn of "😡😡" or "🤯" would read as neutral. Each
emoji in the table carries a valence, an arousal, the basic emotions it points to and, where it fits, a complex
state (🙄 annoyance and doubt, 🤔 pondering); an emoji outside the table gets the valence of VADER's description
of it ("face with tears of joy") and an emotion only when that is clearly positive. Emoji that say nothing about
which emotion (🤔, 🙏, 🔥) weigh on valence and states but leave the emotion distribution to the words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from empathic.perception.labels import BASIC_EMOTIONS

EMOJI = re.compile(r"(?![\U0001F3FB-\U0001F3FF])[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF]")
"""One emoji: a pictograph code point (skin tones and selectors are left out; a ZWJ sequence counts per part)."""


@dataclass(frozen=True, slots=True)
class _Meaning:
    valence: float
    arousal: float
    emotions: dict[str, float]
    states: dict[str, float] = field(default_factory=dict)


def _m(v: float, a: float, emotions: dict[str, float], **states: float) -> _Meaning:
    return _Meaning(v, a, emotions, states)


_ANGRY = _m(-0.8, 0.8, {"angry": 1.0}, frustration=0.5)
_SAD = _m(-0.7, -0.2, {"sad": 1.0})
_CRY = _m(-0.8, 0.3, {"sad": 1.0})
_FEAR = _m(-0.7, 0.7, {"fear": 1.0})
_SURPRISE = _m(0.1, 0.7, {"surprise": 1.0})
_DISGUST = _m(-0.7, 0.3, {"disgust": 1.0})
_HAPPY = _m(0.7, 0.4, {"happy": 1.0})
_JOY = _m(0.85, 0.6, {"happy": 1.0})
_SMILE = _m(0.5, 0.1, {"happy": 0.8, "neutral": 0.2})

TABLE: dict[str, _Meaning] = {
    **dict.fromkeys("😡🤬😠👿💢👊🖕", _ANGRY),
    "😤": _m(-0.6, 0.7, {"angry": 0.8, "disgust": 0.2}, frustration=0.6),
    **dict.fromkeys("😢😞😔😿😥💔😓", _SAD),
    **dict.fromkeys("😭🥺", _CRY),
    **dict.fromkeys("☹🙁😟", _m(-0.5, 0.0, {"sad": 0.8, "neutral": 0.2})),
    **dict.fromkeys("😱😨😰😧😦🫣", _FEAR),
    "🤯": _m(-0.4, 0.85, {"surprise": 0.5, "fear": 0.2, "angry": 0.15, "sad": 0.15}, confusion=0.4, frustration=0.4),
    **dict.fromkeys("😲😮😯😳🫢", _SURPRISE),
    **dict.fromkeys("🤢🤮😖🤧", _DISGUST),
    **dict.fromkeys("😀😃😄😁😆🥳🎉🙌💯🤩", _JOY),
    **dict.fromkeys("😂🤣", _m(0.75, 0.7, {"happy": 1.0})),
    **dict.fromkeys("😊☺😍🥰😘💖💕💗❤♥👍👏✅✨💪😎😇🤗", _HAPPY),
    **dict.fromkeys("🙂😉😌", _SMILE),
    "😅": _m(0.2, 0.4, {"happy": 0.5, "fear": 0.2, "neutral": 0.3}, mixed=0.4),
    "🙄": _m(-0.4, 0.2, {"disgust": 0.4, "angry": 0.3, "neutral": 0.3}, skepticism=0.6, frustration=0.4),
    "😒": _m(-0.45, 0.1, {"disgust": 0.4, "angry": 0.3, "neutral": 0.3}, skepticism=0.5, frustration=0.3),
    "🤨": _m(-0.15, 0.2, {"neutral": 0.6, "surprise": 0.2, "disgust": 0.2}, skepticism=0.6),
    "🤔": _m(0.0, 0.0, {}, contemplation=0.6, skepticism=0.2),
    "🙏": _m(0.2, 0.1, {}),
    **dict.fromkeys("😕🫤", _m(-0.3, 0.1, {"neutral": 0.5, "sad": 0.3, "surprise": 0.2}, confusion=0.6)),
    "🤷": _m(-0.1, -0.1, {}, confusion=0.4),
    **dict.fromkeys("😐😑😶", _m(-0.1, -0.3, {"neutral": 1.0}, boredom=0.3)),
    **dict.fromkeys("😴🥱", _m(-0.2, -0.8, {"neutral": 1.0}, boredom=0.7)),
    "👎": _m(-0.6, 0.3, {"angry": 0.5, "disgust": 0.5}),
}


@dataclass(frozen=True, slots=True)
class EmojiReading:
    """The emoji of a turn taken together: how many, their mean valence and arousal, emotions and states.

    ``weight`` and ``emotional`` count emoji with diminishing returns for repeats (all of them, and those that name
    an emotion); ``probs`` is None when none names one."""

    count: int
    known: int
    weight: float
    emotional: float
    valence: float
    arousal: float
    probs: dict[str, float] | None
    states: dict[str, float]
    top: str


@cache
def _description_valence() -> dict[str, float]:
    """VADER's emoji descriptions scored with its own word lexicon, for emoji outside the table."""
    from empathic.perception.text.sentiment import analyzer

    vader = analyzer()
    out = {}
    for emoji, description in vader.emojis.items():
        total = sum(vader.lexicon.get(w, 0.0) for w in description.lower().split())
        if total:
            out[emoji] = total / math.sqrt(total * total + 15)
    return out


def read_emoji(text: str) -> EmojiReading | None:
    """The emoji in ``text`` read together, or None when there are none; linear in the length of ``text``."""
    found = Counter(m.group(0) for m in EMOJI.finditer(text))
    if not found:
        return None
    fallback = _description_valence()
    valence = arousal = weight = emotional = 0.0
    probs = dict.fromkeys(BASIC_EMOTIONS, 0.0)
    states: dict[str, float] = {}
    known = 0
    for emoji, n in found.items():
        w = 1.0 + math.log(n)  # a repeated emoji insists, but does not outweigh every other one
        meaning = TABLE.get(emoji)
        if meaning is None:
            v = fallback.get(emoji)
            if v is None:
                continue
            meaning = _m(v, 0.3 * abs(v), {"happy": 1.0} if v > 0.3 else {})
        else:
            known += n
        weight += w
        valence += w * meaning.valence
        arousal += w * meaning.arousal
        if meaning.emotions:
            emotional += w
        for e, p in meaning.emotions.items():
            probs[e] += w * p
        for s, p in meaning.states.items():
            states[s] = max(states.get(s, 0.0), p)
    if not weight:
        return None
    top = max(found, key=lambda e: (e in TABLE, found[e]))
    return EmojiReading(
        count=sum(found.values()),
        known=known,
        weight=weight,
        emotional=emotional,
        valence=valence / weight,
        arousal=arousal / weight,
        probs={e: p / emotional for e, p in probs.items()} if emotional else None,
        states=states,
        top=top,
    )

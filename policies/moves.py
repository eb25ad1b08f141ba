"""The empathy moves and tones: one table each, read by the policies, the template responder, the LLM prompt and
the reply checks.

A move row holds the template's sentences (variants rotate so a repeated move does not read the same), the
instruction a chat model gets, the pattern that shows the move in a reply's words (None where words cannot show
it) and where it stands in a reply: ``open`` before the next step, ``close`` after it (a question or a hand-over
ends a reply). A tone row holds the template's opener, the words a chat model is told and how the reply is spoken
(rate, pitch, liveliness, loudness, pauses between sentences; ``empathic bench voice`` measures them on the voice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, get_args

Tone = Literal["warm", "calm", "upbeat", "concise", "formal", "playful"]
Move = Literal[
    "acknowledge",
    "validate",
    "apologize",
    "reassure",
    "encourage",
    "celebrate",
    "normalize",
    "simplify",
    "offer_hint",
    "check_understanding",
    "give_time",
    "raise_challenge",
    "suggest_break",
    "escalate_to_human",
    "close",
]
TONES: Final[tuple[str, ...]] = get_args(Tone)
MOVES: Final[tuple[str, ...]] = get_args(Move)


@dataclass(frozen=True, slots=True)
class MoveSpec:
    name: Move
    lines: tuple[str, ...]
    instruction: str
    shows: re.Pattern[str] | None = None
    check: str = ""
    """The reply-check name the pattern stands for (``apology``, ``question``, ``handover``)."""
    position: Literal["open", "close"] = "open"
    replaces_next_step: bool = False
    """A move that is the whole point of the reply (hand-over, give time, close): no next step beside it."""


@dataclass(frozen=True, slots=True)
class ToneSpec:
    """A tone: what the reply says (opener, words for a chat model) and how a voice says it.

    ``rate`` multiplies the voice's speaking rate, ``pitch_st`` shifts its pitch in semitones, ``variation``
    scales its pitch and timing variation (1: the voice's own), ``gain_db`` its loudness, and ``pause_s`` is the
    silence between sentences.
    """

    name: Tone
    opener: str
    words: str
    cheerful: bool = False
    rate: float = 1.0
    pitch_st: float = 0.0
    variation: float = 1.0
    gain_db: float = 0.0
    pause_s: float = 0.3


APOLOGY: Final = re.compile(r"\b(sorry|apologi[sz]e|apologies)\b", re.I)
HANDOVER: Final = re.compile(
    r"\b(colleague|human|person|team member|specialist|manager|supervisor|someone from)\b", re.I
)

MOVE_TABLE: Final[dict[str, MoveSpec]] = {
    m.name: m
    for m in (
        MoveSpec(
            "acknowledge",
            ("I hear you.", "I understand what you're telling me.", "Thanks for telling me."),
            "Acknowledge what they said.",
        ),
        MoveSpec(
            "validate",
            (
                "That's a completely fair reaction.",
                "Anyone would feel the same in your place.",
                "It makes sense that this bothers you.",
            ),
            "Say their reaction is understandable.",
        ),
        MoveSpec(
            "apologize",
            ("I'm sorry about this.", "I'm sorry for the trouble this has caused.", "I apologize for that."),
            "Start by saying sorry for the trouble, without blaming anyone.",
            APOLOGY,
            "apology",
        ),
        MoveSpec(
            "reassure",
            ("We'll get this sorted out.", "I'll stay with this until it's fixed.", "This can be put right."),
            "Reassure them it will be sorted out.",
        ),
        MoveSpec(
            "encourage",
            ("You're closer than you think.", "Good effort so far, keep going.", "You're making real progress."),
            "Encourage them.",
        ),
        MoveSpec(
            "celebrate",
            ("Well done, that's it!", "Nice work, you got it.", "Exactly right, well done."),
            "Congratulate them briefly on getting it right.",
        ),
        MoveSpec(
            "normalize",
            (
                "Lots of people feel nervous about this, and it's completely normal.",
                "Feeling worried before an exam is normal, and it doesn't mean you'll fail.",
            ),
            "Say that feeling this way is normal and common.",
        ),
        MoveSpec(
            "simplify",
            ("Let me put it more simply.", "Let's take it one small step at a time."),
            "Explain more simply, one small step.",
        ),
        MoveSpec(
            "offer_hint",
            (
                "Here's a hint: start from what you already know and change one thing at a time.",
                "A hint: write down what the question gives you before you try to solve it.",
            ),
            "Give one hint, not the answer.",
        ),
        MoveSpec(
            "check_understanding",
            ("Which part feels least clear so far?", "Does that make sense so far?"),
            "End with a question that checks they understand.",
            re.compile(r"\?"),
            "question",
            position="close",
        ),
        MoveSpec(
            "give_time",
            ("Take your time, I'm here when you're ready.", "No rush, think it through."),
            "Only say they can take their time.",
            position="close",
            replaces_next_step=True,
        ),
        MoveSpec(
            "raise_challenge",
            ("You've got this down; want to try a harder one?", "Ready for something more challenging?"),
            "Offer a harder challenge, as a question.",
            position="close",
        ),
        MoveSpec(
            "suggest_break",
            ("It might help to take a short break and come back to this fresh.",),
            "Suggest a short break.",
            position="close",
        ),
        MoveSpec(
            "escalate_to_human",
            (
                "I'm bringing in a member of our team who can take this further; "
                "I've passed on a summary so you won't need to repeat yourself.",
            ),
            "Say a human colleague will take over and already has a summary.",
            HANDOVER,
            "handover",
            position="close",
            replaces_next_step=True,
        ),
        MoveSpec(
            "close",
            ("You're welcome, and thanks for getting in touch. Take care!", "Glad I could help. Have a good day!"),
            "Close warmly in one sentence; ask nothing new.",
            position="close",
            replaces_next_step=True,
        ),
    )
}

TONE_TABLE: Final[dict[str, ToneSpec]] = {
    t.name: t
    for t in (
        # slower and lower for the upset (calm), brighter and quicker for the pleased (upbeat, playful)
        ToneSpec("warm", "", "warm and kind", rate=0.95, pitch_st=-0.5, gain_db=-1.0, pause_s=0.35),
        ToneSpec("calm", "", "calm and steady", rate=0.88, pitch_st=-1.5, variation=0.75, gain_db=-3.0, pause_s=0.45),
        ToneSpec("upbeat", "Great! ", "upbeat", cheerful=True, rate=1.08, pitch_st=1.5, variation=1.2, pause_s=0.25),
        ToneSpec("concise", "", "concise", rate=1.05, variation=0.9, gain_db=-1.0, pause_s=0.2),
        ToneSpec("formal", "", "polite and formal", rate=0.97, pitch_st=-0.5, variation=0.85, gain_db=-1.0),
        ToneSpec(
            "playful", "Nice! ", "light and playful", cheerful=True, rate=1.1, pitch_st=2.0, variation=1.3, pause_s=0.25
        ),
    )
}

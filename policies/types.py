"""What a policy reads besides the emotion (``DialogueState``) and what it decides (``ToneDirective``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, get_args

from perception import EmotionState, TextTurn
from perception.text import find_cues

Tone = Literal["warm", "calm", "upbeat", "concise", "formal", "playful"]
Move = Literal[
    "acknowledge",
    "validate",
    "apologize",
    "reassure",
    "encourage",
    "simplify",
    "offer_hint",
    "check_understanding",
    "give_time",
    "raise_challenge",
    "suggest_break",
    "escalate_to_human",
]
Verbosity = Literal["brief", "normal", "detailed"]
Pacing = Literal["slow", "normal", "brisk"]
TONES: tuple[str, ...] = get_args(Tone)
MOVES: tuple[str, ...] = get_args(Move)

NEGATIVE_VALENCE = -0.2
"""A user turn whose fused valence is below this counts toward the negative streak."""


@dataclass(frozen=True, slots=True)
class ToneDirective:
    """How to answer: tone, empathy moves in order, length and pace, and why."""

    tone: Tone
    moves: tuple[Move, ...] = ()
    verbosity: Verbosity = "normal"
    pacing: Pacing = "normal"
    reasons: tuple[str, ...] = ()
    escalate: bool = False
    handoff_summary: str = ""

    @property
    def max_sentences(self) -> int:
        return {"brief": 2, "normal": 4, "detailed": 8}[self.verbosity]


@dataclass(frozen=True, slots=True)
class DialogueState:
    """The conversation so far as a policy needs it. Immutable: :meth:`after_user_turn` returns a new one."""

    turns: tuple[TextTurn, ...] = ()
    user_turns: int = 0
    negative_streak: int = 0
    asked_for_human: bool = False
    escalated: bool = False
    attempts: int = 0
    hints_given: int = 0
    state_history: tuple[str, ...] = field(default=(), compare=False)
    max_turns: int = 20

    def after_user_turn(self, turn: TextTurn, state: EmotionState) -> DialogueState:
        """Fold in a user turn and the emotion state at its end."""
        negative = state.valence < NEGATIVE_VALENCE or state.p("frustration") >= 0.5 or state.p("angry") >= 0.35
        label = state.top_complex() or state.dominant
        return replace(
            self,
            turns=(*self.turns, turn)[-self.max_turns :],
            user_turns=self.user_turns + 1,
            negative_streak=self.negative_streak + 1 if negative else 0,
            asked_for_human=self.asked_for_human or find_cues(turn.text).has("asks_for_human"),
            state_history=(*self.state_history, label)[-self.max_turns :],
        )

    def after_agent_turn(self, turn: TextTurn, directive: ToneDirective | None = None) -> DialogueState:
        """Fold in the agent's reply and, when known, what it did (hints given, escalation)."""
        return replace(
            self,
            turns=(*self.turns, turn)[-self.max_turns :],
            escalated=self.escalated or (directive is not None and directive.escalate),
            hints_given=self.hints_given + (directive is not None and "offer_hint" in directive.moves),
        )

    def last_user_text(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.speaker == "user"), "")


class Policy(Protocol):
    """Pure and synchronous: the same state and dialogue always give the same directive."""

    def decide(self, state: EmotionState, dialogue: DialogueState) -> ToneDirective: ...

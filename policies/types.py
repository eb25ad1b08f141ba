"""What a policy reads besides the emotion (``DialogueState``) and what it decides (``ToneDirective``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from empathic.perception import EmotionState, TextTurn
from empathic.perception.text.intents import detect_intents
from empathic.policies.moves import Move, Tone

Verbosity = Literal["brief", "normal", "detailed"]
Pacing = Literal["slow", "normal", "brisk"]

NEGATIVE_VALENCE = -0.2
"""A user turn whose fused valence is below this counts toward the negative streak (as does a complaint)."""
SARCASM = 0.4
"""A sarcasm score from which a turn counts as a complaint: positive words over a bad situation."""


def distress(state: EmotionState) -> float:
    """How upset a turn reads, in [0, 1]: the stronger of anger and frustration. Its jumps mark sharp escalation."""
    return max(state.p("angry"), state.p("frustration"))


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

    @property
    def max_words(self) -> int:
        """A word budget next to the sentence limit: one long run-on sentence must not dodge ``brief``."""
        return {"brief": 40, "normal": 90, "detailed": 200}[self.verbosity]


@dataclass(frozen=True, slots=True)
class DialogueState:
    """The conversation so far as a policy needs it. Immutable: :meth:`after_user_turn` returns a new one.

    ``intents`` are what the last user turn does (asks for a person, thanks, attempts an answer, ...), read by
    the text perceiver or, without one, by its patterns. ``asked_for_human`` holds for the turn that asked.
    ``attempts`` and ``hints_given`` count the learner's answer attempts and the hints given on the current task,
    which starts with the conversation and again after each ``raise_challenge``: a tutor judges progress per problem.
    ``state_history`` holds one label per user turn (strongest complex state, else dominant emotion) and
    ``distress_history`` one :func:`distress` value per user turn, so rules can see streaks and sharp rises.
    """

    turns: tuple[TextTurn, ...] = ()
    user_turns: int = 0
    negative_streak: int = 0
    intents: tuple[str, ...] = ()
    asked_for_human: bool = False
    escalated: bool = False
    attempts: int = 0
    hints_given: int = 0
    state_history: tuple[str, ...] = field(default=(), compare=False)
    distress_history: tuple[float, ...] = field(default=(), compare=False)
    max_turns: int = 20

    def after_user_turn(
        self, turn: TextTurn, state: EmotionState, intents: Sequence[str] | None = None
    ) -> DialogueState:
        """Fold in a user turn, the emotion state at its end and what the turn does (None: read its patterns)."""
        said = tuple(intents) if intents is not None else tuple(i.name for i in detect_intents(turn.text))
        complaint = "complaint" in said or state.p("sarcasm") >= SARCASM
        negative = (
            state.valence < NEGATIVE_VALENCE or state.p("frustration") >= 0.5 or state.p("angry") >= 0.35 or complaint
        )
        label = state.top_complex() or state.dominant
        return replace(
            self,
            turns=(*self.turns, turn)[-self.max_turns :],
            user_turns=self.user_turns + 1,
            negative_streak=self.negative_streak + 1 if negative else 0,
            intents=said,
            asked_for_human="handover_request" in said,
            attempts=self.attempts + ("answer_attempt" in said),
            state_history=(*self.state_history, label)[-self.max_turns :],
            distress_history=(*self.distress_history, distress(state))[-self.max_turns :],
        )

    def after_agent_turn(self, turn: TextTurn, directive: ToneDirective | None = None) -> DialogueState:
        """Fold in the agent's reply and, when known, the directive it followed."""
        folded = replace(self, turns=(*self.turns, turn)[-self.max_turns :])
        return folded.after_directive(directive) if directive is not None else folded

    def after_directive(self, directive: ToneDirective) -> DialogueState:
        """Fold in what the agent was told to do (hints given, escalation, a new task), also when the host writes
        the reply itself."""
        new_task = "raise_challenge" in directive.moves
        return replace(
            self,
            escalated=self.escalated or directive.escalate,
            attempts=0 if new_task else self.attempts,
            hints_given=0 if new_task else self.hints_given + ("offer_hint" in directive.moves),
        )

    def last_user_text(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.speaker == "user"), "")

    @property
    def distress_rise(self) -> float:
        """How much more upset the last user turn reads than the one before (0 before the second turn)."""
        if len(self.distress_history) < 2:
            return 0.0
        return self.distress_history[-1] - self.distress_history[-2]

    def state_streak(self, label: str) -> int:
        """How many user turns in a row, up to the last, were labelled ``label``."""
        n = 0
        for seen in reversed(self.state_history):
            if seen != label:
                break
            n += 1
        return n

    @property
    def previous_state(self) -> str | None:
        """The label of the user turn before the last one."""
        return self.state_history[-2] if len(self.state_history) >= 2 else None


class Policy(Protocol):
    """Pure and synchronous: the same state and dialogue always give the same directive.

    ``name`` tells a responder which domain it answers in (a profile's name).
    """

    name: str

    def decide(self, state: EmotionState, dialogue: DialogueState) -> ToneDirective: ...

"""Declarative policy profiles: ordered rules in YAML, read into validated pydantic models.

A rule fires when every condition in its ``when`` holds. The first firing rule that sets a tone sets it; moves of
all firing rules are joined in order; any firing rule with ``escalate`` hands the conversation to a person.
A rule with ``final: true`` stops the rules below it. Every decision lists the rules that fired and why.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from perception import EmotionState
from perception.labels import BASIC_EMOTIONS, COMPLEX_STATES
from policies.types import DialogueState, Move, Pacing, Tone, ToneDirective, Verbosity

_LABELS = frozenset(BASIC_EMOTIONS) | frozenset(COMPLEX_STATES)


class Condition(BaseModel):
    """All given fields must hold. Label thresholds read basic-emotion probabilities and complex-state scores."""

    model_config = ConfigDict(extra="forbid")

    all_of: dict[str, float] = Field(default_factory=dict, description="every label at or above its threshold")
    any_of: dict[str, float] = Field(default_factory=dict, description="at least one label at or above its threshold")
    valence_below: float | None = None
    valence_above: float | None = None
    arousal_above: float | None = None
    arousal_below: float | None = None
    min_confidence: float = 0.0
    negative_streak_at_least: int | None = None
    asked_for_human: bool | None = None
    escalated: bool | None = None
    user_turns_at_least: int | None = None

    def model_post_init(self, _context: object) -> None:
        unknown = (set(self.all_of) | set(self.any_of)) - _LABELS
        if unknown:
            raise ValueError(f"unknown labels in condition: {sorted(unknown)}")

    def holds(self, s: EmotionState, d: DialogueState) -> bool:
        checks = (
            s.confidence >= self.min_confidence,
            all(s.p(k) >= v for k, v in self.all_of.items()),
            not self.any_of or any(s.p(k) >= v for k, v in self.any_of.items()),
            self.valence_below is None or s.valence < self.valence_below,
            self.valence_above is None or s.valence > self.valence_above,
            self.arousal_above is None or s.arousal > self.arousal_above,
            self.arousal_below is None or s.arousal < self.arousal_below,
            self.negative_streak_at_least is None or d.negative_streak >= self.negative_streak_at_least,
            self.asked_for_human is None or d.asked_for_human == self.asked_for_human,
            self.escalated is None or d.escalated == self.escalated,
            self.user_turns_at_least is None or d.user_turns >= self.user_turns_at_least,
        )
        return all(checks)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    when: Condition = Field(default_factory=Condition)
    tone: Tone | None = None
    moves: list[Move] = Field(default_factory=list)
    verbosity: Verbosity | None = None
    pacing: Pacing | None = None
    escalate: bool = False
    final: bool = False
    reason: str = ""


class Profile(BaseModel):
    """A named policy: defaults plus ordered rules."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    default_tone: Tone = "calm"
    default_verbosity: Verbosity = "normal"
    default_pacing: Pacing = "normal"
    rules: list[Rule]

    @classmethod
    def from_yaml(cls, path: Path | str) -> Profile:
        return cls.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    def decide(self, state: EmotionState, dialogue: DialogueState) -> ToneDirective:
        """Pure: the same state and dialogue always give the same directive."""
        tone: Tone | None = None
        verbosity: Verbosity | None = None
        pacing: Pacing | None = None
        moves: list[Move] = []
        reasons: list[str] = []
        escalate = False
        for rule in self.rules:
            if not rule.when.holds(state, dialogue):
                continue
            tone = tone or rule.tone
            verbosity = verbosity or rule.verbosity
            pacing = pacing or rule.pacing
            moves.extend(m for m in rule.moves if m not in moves)
            escalate = escalate or rule.escalate
            reasons.append(f"{rule.name}: {rule.reason}" if rule.reason else rule.name)
            if rule.final:
                break
        return ToneDirective(
            tone=tone or self.default_tone,
            moves=tuple(moves),
            verbosity=verbosity or self.default_verbosity,
            pacing=pacing or self.default_pacing,
            reasons=tuple(reasons) or ("no rule fired: profile defaults",),
            escalate=escalate,
            handoff_summary=handoff_summary(state, dialogue) if escalate else "",
        )


def handoff_summary(state: EmotionState, dialogue: DialogueState) -> str:
    """What a human agent taking over needs to know, in two lines."""
    user_texts = [t.text for t in dialogue.turns if t.speaker == "user"]
    first = user_texts[0] if user_texts else ""
    last = user_texts[-1] if user_texts else ""
    mood = state.top_complex(0.4) or state.dominant
    return (
        f"{dialogue.user_turns} user turns; negative for the last {dialogue.negative_streak}; "
        f"now seems {mood} (confidence {state.confidence:.2f}). First said: {first!r}. Last said: {last!r}."
    )


def shipped_profiles() -> list[str]:
    """Names of the profiles that ship with empathic."""
    folder = resources.files("policies").joinpath("profiles")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name (``customer_service``, ``tutoring``) or any YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return Profile.from_yaml(path)
    if name_or_path not in shipped_profiles():
        raise ValueError(f"unknown profile {name_or_path!r}; shipped: {shipped_profiles()} or a path to a .yaml")
    return Profile.from_yaml(str(resources.files("policies").joinpath("profiles", f"{name_or_path}.yaml")))

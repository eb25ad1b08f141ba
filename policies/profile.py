"""Declarative policy profiles: ordered rules in YAML, read into validated pydantic models.

A rule fires when every condition in its ``when`` holds. One rule decides: the first that fires, in the order of the
file, sets the tone, the moves, the pace and whether to hand over. Every decision says which rule won and why, and
which other rules also fired and were outranked, so a conflict is visible rather than blended.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml
from empathic.perception import EmotionState
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES, INTENTS
from empathic.policies.moves import Move, Tone
from empathic.policies.types import DialogueState, Pacing, ToneDirective, Verbosity
from pydantic import BaseModel, ConfigDict, Field

_LABELS = frozenset(BASIC_EMOTIONS) | frozenset(COMPLEX_STATES)


class Condition(BaseModel):
    """All given fields must hold. Label thresholds read basic-emotion probabilities and complex-state scores.

    Dialogue fields read :class:`DialogueState`: streaks, sharp rises of distress, the previous turn's state,
    attempts and hints on the current task.
    """

    model_config = ConfigDict(extra="forbid")

    all_of: dict[str, float] = Field(default_factory=dict, description="every label at or above its threshold")
    any_of: dict[str, float] = Field(default_factory=dict, description="at least one label at or above its threshold")
    none_of: dict[str, float] = Field(default_factory=dict, description="every label below its threshold")
    valence_below: float | None = None
    valence_above: float | None = None
    arousal_above: float | None = None
    arousal_below: float | None = None
    min_confidence: float = 0.0
    negative_streak_at_least: int | None = None
    distress_rise_at_least: float | None = Field(None, description="anger/frustration up this much since last turn")
    state_for_turns: dict[str, int] = Field(default_factory=dict, description="label held for at least N user turns")
    previous_state_in: list[str] = Field(default_factory=list, description="the turn before was one of these")
    intents_any: list[str] = Field(default_factory=list, description="the last turn does at least one of these")
    intents_none: list[str] = Field(default_factory=list, description="the last turn does none of these")
    text_matches: str | None = Field(None, description="a regular expression the last user turn matches")
    asked_for_human: bool | None = None
    escalated: bool | None = None
    user_turns_at_least: int | None = None
    attempts_at_least: int | None = None
    hints_at_least: int | None = None
    hints_below: int | None = None

    def model_post_init(self, _context: object) -> None:
        named = set(self.all_of) | set(self.any_of) | set(self.none_of) | set(self.state_for_turns)
        unknown = (named | set(self.previous_state_in)) - _LABELS
        if unknown:
            raise ValueError(f"unknown labels in condition: {sorted(unknown)}")
        unknown = (set(self.intents_any) | set(self.intents_none)) - set(INTENTS)
        if unknown:
            raise ValueError(f"unknown intents in condition: {sorted(unknown)}; known: {INTENTS}")
        self._text = re.compile(self.text_matches, re.I) if self.text_matches else None

    def _checks(self, s: EmotionState, d: DialogueState) -> list[tuple[bool, str]]:
        """Each set field as (holds, evidence in words), so deciding and explaining cannot disagree."""
        out: list[tuple[bool, str]] = []
        if self.min_confidence:
            out.append((s.confidence >= self.min_confidence, f"confidence {s.confidence:.2f}"))
        out += [(s.p(k) >= v, f"{k} {s.p(k):.2f}>={v}") for k, v in self.all_of.items()]
        if self.any_of:
            hits = [f"{k} {s.p(k):.2f}>={v}" for k, v in self.any_of.items() if s.p(k) >= v]
            out.append((bool(hits), " or ".join(hits)))
        out += [(s.p(k) < v, f"{k} {s.p(k):.2f}<{v}") for k, v in self.none_of.items()]
        bounds = (
            (self.valence_below, s.valence < (self.valence_below or 0.0), f"valence {s.valence:+.2f}"),
            (self.valence_above, s.valence > (self.valence_above or 0.0), f"valence {s.valence:+.2f}"),
            (self.arousal_above, s.arousal > (self.arousal_above or 0.0), f"arousal {s.arousal:+.2f}"),
            (self.arousal_below, s.arousal < (self.arousal_below or 0.0), f"arousal {s.arousal:+.2f}"),
        )
        out += [(ok, why) for limit, ok, why in bounds if limit is not None]
        counts = (
            (self.negative_streak_at_least, d.negative_streak, "negative turns in a row"),
            (self.user_turns_at_least, d.user_turns, "user turns"),
            (self.attempts_at_least, d.attempts, "attempts on this task"),
            (self.hints_at_least, d.hints_given, "hints on this task"),
        )
        out += [(have >= need, f"{have} {what}") for need, have, what in counts if need is not None]
        if self.hints_below is not None:
            out.append((d.hints_given < self.hints_below, f"{d.hints_given} hints on this task"))
        if self.distress_rise_at_least is not None:
            out.append((d.distress_rise >= self.distress_rise_at_least, f"distress up {d.distress_rise:+.2f}"))
        out += [(d.state_streak(k) >= n, f"{k} for {d.state_streak(k)} turns") for k, n in self.state_for_turns.items()]
        if self.previous_state_in:
            out.append((d.previous_state in self.previous_state_in, f"previous turn {d.previous_state}"))
        if self.intents_any:
            hits = [i for i in self.intents_any if i in d.intents]
            out.append((bool(hits), "says: " + ", ".join(hits) if hits else "no such intent"))
        if self.intents_none:
            hits = [i for i in self.intents_none if i in d.intents]
            out.append((not hits, "also says: " + ", ".join(hits) if hits else ""))
        if self._text is not None:
            m = self._text.search(d.last_user_text())
            out.append((m is not None, f"said {m.group(0)!r}" if m else "no matching words"))
        flags = (
            (self.asked_for_human, d.asked_for_human, "asked for a person"),
            (self.escalated, d.escalated, "already handed over"),
        )
        out += [(have == want, what if have else f"not {what}") for want, have, what in flags if want is not None]
        return out

    def holds(self, s: EmotionState, d: DialogueState) -> bool:
        return all(ok for ok, _ in self._checks(s, d))

    def evidence(self, s: EmotionState, d: DialogueState) -> str:
        """What made this condition hold, e.g. ``frustration 0.62>=0.45; 3 negative turns in a row``."""
        return "; ".join(why for _, why in self._checks(s, d) if why)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    when: Condition = Field(default_factory=Condition)
    tone: Tone | None = None
    moves: list[Move] = Field(default_factory=list)
    verbosity: Verbosity | None = None
    pacing: Pacing | None = None
    escalate: bool = False
    reason: str = ""


class FactPattern(BaseModel):
    """A regular expression over what the person said; ``value`` names the fact, else the first group (or match)."""

    model_config = ConfigDict(extra="forbid")

    pattern: str
    value: str | None = None

    def model_post_init(self, _context: object) -> None:
        self._regex = re.compile(self.pattern, re.I)

    def find(self, text: str) -> str | None:
        m = self._regex.search(text)
        if m is None:
            return None
        return self.value or (m.group(1) if m.groups() else m.group(0)).strip()


class NextStep(BaseModel):
    """A concrete next step; ``{fact}`` placeholders are filled in. ``needs`` facts must be known, ``unless`` not
    (a step that asks for a fact is listed with ``unless`` so it is never asked for twice)."""

    model_config = ConfigDict(extra="forbid")

    text: str
    needs: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)


class Replies(BaseModel):
    """The profile's own words for template replies."""

    model_config = ConfigDict(extra="forbid")

    next_steps: list[NextStep] = Field(default_factory=lambda: [NextStep(text="Tell me a bit more about it.")])
    move_lines: dict[Move, list[str]] = Field(default_factory=dict, description="profile-specific move sentences")

    def steps_for(self, facts: dict[str, str]) -> list[NextStep]:
        """The steps whose needs are known and whose asks are not; the most specific first."""
        fit = [s for s in self.next_steps if set(s.needs) <= facts.keys() and not set(s.unless) & facts.keys()]
        most = max((len(s.needs) for s in fit), default=0)
        return [s for s in fit if len(s.needs) == most]


class Profile(BaseModel):
    """A named policy: defaults plus ordered rules, and everything a responder needs for this domain: the role,
    the word for the person, topic words, the facts worth remembering and the template's own lines. A new profile
    is one YAML file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    role: str = Field("a helpful assistant", description="who the agent is, for a chat model's system prompt")
    person: str = Field("person", description="what the agent calls the person: customer, learner, patient, ...")
    topic_words: list[str] = Field(default_factory=list, description="words that mark a reply as on topic")
    facts: dict[str, list[FactPattern]] = Field(default_factory=dict, description="facts read from the person's words")
    replies: Replies = Field(default_factory=Replies)
    default_tone: Tone = "calm"
    default_verbosity: Verbosity = "normal"
    default_pacing: Pacing = "normal"
    rules: list[Rule]

    def model_post_init(self, _context: object) -> None:
        for step in self.replies.next_steps:
            unknown = (set(step.needs) | set(step.unless) | set(re.findall(r"{(\w+)}", step.text))) - self.facts.keys()
            if unknown:
                raise ValueError(f"next step {step.text!r} names undeclared facts {sorted(unknown)}")

    def facts_in(self, texts: list[str]) -> dict[str, str]:
        """Each fact's value from the newest text that states it."""
        found: dict[str, str] = {}
        for name, patterns in self.facts.items():
            for text in reversed(texts):
                value = next((v for p in patterns if (v := p.find(text))), None)
                if value:
                    found[name] = value
                    break
        return found

    @classmethod
    def from_yaml(cls, path: Path | str) -> Profile:
        return cls.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    def decide(self, state: EmotionState, dialogue: DialogueState) -> ToneDirective:
        """Pure: the same state and dialogue always give the same directive."""
        fired = [rule for rule in self.rules if rule.when.holds(state, dialogue)]
        if not fired:
            return ToneDirective(
                tone=self.default_tone,
                verbosity=self.default_verbosity,
                pacing=self.default_pacing,
                reasons=("no rule fired: profile defaults",),
            )
        rule, outranked = fired[0], fired[1:]
        evidence = rule.when.evidence(state, dialogue)
        said = f"{rule.name}: {rule.reason}" if rule.reason else rule.name
        reasons = [f"{said} ({evidence})" if evidence else said]
        if outranked:
            reasons.append(f"outranked by {rule.name}, which comes first: {', '.join(r.name for r in outranked)}")
        return ToneDirective(
            tone=rule.tone or self.default_tone,
            moves=tuple(rule.moves),
            verbosity=rule.verbosity or self.default_verbosity,
            pacing=rule.pacing or self.default_pacing,
            reasons=tuple(reasons),
            escalate=rule.escalate,
            handoff_summary=handoff_summary(state, dialogue) if rule.escalate else "",
        )


def handoff_summary(state: EmotionState, dialogue: DialogueState, *, words: bool = True) -> str:
    """What a human agent taking over needs to know, in two lines.

    ``words=False`` when the person did not grant the words channel: then the summary quotes nothing they said and
    names no state read from words (the streak of negative turns may come from words, so it is left out too).
    """
    if not words:
        mood = (state.top_complex(0.4) or state.dominant) if state.confidence > 0 else "unknown"
        return (
            f"{dialogue.user_turns} user turns; asked for a person: {'yes' if dialogue.asked_for_human else 'no'}; "
            f"now seems {mood} (confidence {state.confidence:.2f}, not from words). "
            "Their words were not analysed or quoted: no consent for the words channel."
        )
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
    folder = resources.files("empathic.policies").joinpath("profiles")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name (``customer_service``, ``tutoring``) or any YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return Profile.from_yaml(path)
    if name_or_path not in shipped_profiles():
        raise ValueError(f"unknown profile {name_or_path!r}; shipped: {shipped_profiles()} or a path to a .yaml")
    return Profile.from_yaml(str(resources.files("empathic.policies").joinpath("profiles", f"{name_or_path}.yaml")))

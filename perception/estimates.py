"""What perceivers say about a moment (``ModalityEstimate``) and what fusion makes of all of them (``EmotionState``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES, INTENTS


@dataclass(frozen=True, slots=True)
class Cue:
    """A short named piece of evidence, e.g. ``lip_corner_pull=0.80`` or ``hedge:"I'm not sure"``.

    ``value`` is its strength in [0, 1]; ``text`` quotes what was seen or heard when there is something to quote.
    ``supports`` names the emotions or states it is evidence for, so an explanation can say why it matters.
    """

    name: str
    value: float = 1.0
    modality: str = ""
    text: str = ""
    supports: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f'{self.name}:"{self.text}"' if self.text else f"{self.name}={self.value:.2f}"


@dataclass(frozen=True, slots=True)
class Intent:
    """What a turn does (asks for a person, thanks, complains, ...), one of :data:`INTENTS`.

    ``confidence`` in [0, 1]; ``evidence`` quotes the words that matched, or names the example sentence the
    turn resembles when only the model saw it, so a policy can say why it acted.
    """

    name: str
    confidence: float
    evidence: str = ""

    def __post_init__(self) -> None:
        if self.name not in INTENTS:
            raise ValueError(f"unknown intent {self.name!r}; expected one of {INTENTS}")
        _check_unit("intent confidence", self.confidence, 0.0)

    def __str__(self) -> str:
        return f"{self.name}={self.confidence:.2f}" + (f' ("{self.evidence}")' if self.evidence else "")


def _frozen_probs(values: Mapping[str, float], allowed: tuple[str, ...], what: str) -> Mapping[str, float]:
    out: dict[str, float] = {}
    for k, v in values.items():
        if k not in allowed:
            raise ValueError(f"{what}: unknown label {k!r}; expected one of {allowed}")
        v = float(v)
        if not math.isfinite(v) or v < -1e-9 or v > 1 + 1e-9:
            raise ValueError(f"{what}: {k}={v} is not a probability")
        out[k] = min(max(v, 0.0), 1.0)
    return MappingProxyType(out)


def _check_unit(name: str, value: float, lo: float) -> None:
    if not math.isfinite(value) or not lo <= value <= 1.0:
        raise ValueError(f"{name} must be in [{lo}, 1], got {value}")


@dataclass(frozen=True, slots=True)
class Episode:
    """A brief event inside a stream, e.g. a micro-expression: when it began, peaked and ended (media seconds).

    ``kind`` names what it is (``micro_expression``, ``yawn``, ...); ``labels`` what was involved (action units,
    emotions); ``intensity`` its peak strength in [0, 1].
    """

    kind: str
    onset: float
    apex: float
    offset: float
    labels: tuple[str, ...] = ()
    intensity: float = 0.0

    @property
    def duration(self) -> float:
        return self.offset - self.onset


@dataclass(frozen=True, slots=True)
class ModalityEstimate:
    """One perceiver's reading of one moment.

    ``probs`` is a distribution over :data:`BASIC_EMOTIONS` (empty when the perceiver could not tell);
    ``complex_states`` scores each of :data:`COMPLEX_STATES` it has evidence on, independently in [0, 1].
    ``confidence`` 0 means "no usable evidence" and ``reason`` says why (no face, silence, ...).
    ``episodes`` are brief events that ended in this observation (micro-expressions); the session emits each.
    ``intents`` say what a text turn does (:data:`INTENTS`), strongest first; other modalities leave them empty.
    """

    modality: str
    t: float
    probs: Mapping[str, float]
    valence: float
    arousal: float
    confidence: float
    cues: tuple[Cue, ...] = ()
    complex_states: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    reason: str = ""
    episodes: tuple[Episode, ...] = ()
    intents: tuple[Intent, ...] = ()

    def __post_init__(self) -> None:
        if not math.isfinite(self.t):
            raise ValueError(f"t must be finite, got {self.t}")
        _check_unit("valence", self.valence, -1.0)
        _check_unit("arousal", self.arousal, -1.0)
        _check_unit("confidence", self.confidence, 0.0)
        probs = _frozen_probs(self.probs, BASIC_EMOTIONS, "probs")
        if probs and abs(sum(probs.values()) - 1.0) > 1e-3:
            raise ValueError(f"probs must sum to 1, got {sum(probs.values()):.4f}")
        object.__setattr__(self, "probs", probs)
        object.__setattr__(self, "complex_states", _frozen_probs(self.complex_states, COMPLEX_STATES, "complex_states"))
        object.__setattr__(self, "cues", tuple(self.cues))
        object.__setattr__(self, "episodes", tuple(self.episodes))
        object.__setattr__(self, "intents", tuple(self.intents))

    @classmethod
    def unknown(cls, modality: str, t: float, reason: str, source: str = "") -> ModalityEstimate:
        """An honest "cannot tell": confidence 0, no probabilities, and why."""
        return cls(modality, t, {}, 0.0, 0.0, 0.0, source=source, reason=reason)

    def to_record(self) -> dict[str, object]:
        """The fields a timeline shows (cues as text; episodes are events of their own); floats unrounded."""
        return {
            "modality": self.modality,
            "source": self.source,
            "confidence": self.confidence,
            "valence": self.valence,
            "arousal": self.arousal,
            "probs": dict(self.probs),
            "complex": dict(self.complex_states),
            "cues": [str(c) for c in self.cues],
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class EmotionState:
    """The fused estimate: the one thing policies, responders and UIs read.

    ``contributions`` maps each modality to its share of the evidence (shares sum to 1 when any evidence was used).
    ``cues`` are the strongest pieces of evidence, strongest first; ``explanation`` says the same in plain words.
    ``dominant_label`` is set by fusion, which holds a label until another clearly leads (no flicker).
    """

    t: float
    probs: Mapping[str, float]
    complex_states: Mapping[str, float]
    valence: float
    arousal: float
    confidence: float
    contributions: Mapping[str, float] = field(default_factory=dict)
    cues: tuple[Cue, ...] = ()
    explanation: str = ""
    dominant_label: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "probs", _frozen_probs(self.probs, BASIC_EMOTIONS, "probs"))
        object.__setattr__(self, "complex_states", _frozen_probs(self.complex_states, COMPLEX_STATES, "complex"))
        object.__setattr__(self, "contributions", MappingProxyType(dict(self.contributions)))
        _check_unit("valence", self.valence, -1.0)
        _check_unit("arousal", self.arousal, -1.0)
        _check_unit("confidence", self.confidence, 0.0)

    @classmethod
    def neutral(cls, t: float = 0.0) -> EmotionState:
        """The state before any evidence: neutral, with confidence 0."""
        return cls(
            t,
            {e: float(e == "neutral") for e in BASIC_EMOTIONS},
            dict.fromkeys(COMPLEX_STATES, 0.0),
            0.0,
            0.0,
            0.0,
            explanation="No evidence yet.",
        )

    @property
    def dominant(self) -> str:
        """The basic emotion fusion settled on (with hysteresis), else the most probable one."""
        return self.dominant_label or max(BASIC_EMOTIONS, key=lambda e: self.probs.get(e, 0.0))

    def top_complex(self, threshold: float = 0.5) -> str | None:
        """The strongest complex state if it reaches ``threshold``, else None."""
        if not self.complex_states:
            return None
        name = max(self.complex_states, key=self.complex_states.__getitem__)
        return name if self.complex_states[name] >= threshold else None

    def p(self, label: str) -> float:
        """Probability of a basic emotion or score of a complex state, 0 when absent."""
        return self.probs.get(label, self.complex_states.get(label, 0.0))

    def to_record(self) -> dict[str, object]:
        """The fields a timeline shows, with the settled ``dominant`` and top ``complex`` state; floats unrounded."""
        return {
            "dominant": self.dominant,
            "complex": self.top_complex(),
            "valence": self.valence,
            "arousal": self.arousal,
            "confidence": self.confidence,
            "probs": dict(self.probs),
            "complex_states": dict(self.complex_states),
            "contributions": dict(self.contributions),
            "cues": [f"{c.modality} {c}" for c in self.cues],
            "explanation": self.explanation,
        }

"""Session events: what observers (UI, HTTP clients, logs, metrics) see, each with a media timestamp ``t``.

``to_record()`` gives the JSON-ready dict of the ``empathic run`` timeline; floats are rounded so a replay
prints byte-identical lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from empathic.perception import EmotionState, Episode, ModalityEstimate, TextTurn
from empathic.policies import ToneDirective


def _r(x: float) -> float:
    return round(float(x), 4)


@dataclass(frozen=True, slots=True)
class Event:
    t: float
    type: ClassVar[str] = "event"

    def to_record(self) -> dict[str, Any]:
        return {"type": self.type, "t": _r(self.t), **self._fields()}

    def _fields(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class EstimateMade(Event):
    """One perceiver's estimate, before fusion."""

    estimate: ModalityEstimate
    type: ClassVar[str] = "estimate"

    def _fields(self) -> dict[str, Any]:
        e = self.estimate
        return {
            "modality": e.modality,
            "source": e.source,
            "confidence": _r(e.confidence),
            "valence": _r(e.valence),
            "arousal": _r(e.arousal),
            "probs": {k: _r(v) for k, v in e.probs.items()},
            "complex": {k: _r(v) for k, v in e.complex_states.items()},
            "cues": [str(c) for c in e.cues],
            "reason": e.reason,
        }


@dataclass(frozen=True, slots=True)
class EpisodeDetected(Event):
    """A brief event a perceiver found (e.g. a micro-expression), stamped at its offset."""

    modality: str
    episode: Episode
    type: ClassVar[str] = "episode"

    def _fields(self) -> dict[str, Any]:
        e = self.episode
        return {
            "modality": self.modality,
            "kind": e.kind,
            "onset": _r(e.onset),
            "apex": _r(e.apex),
            "offset": _r(e.offset),
            "labels": list(e.labels),
            "intensity": _r(e.intensity),
        }


@dataclass(frozen=True, slots=True)
class EmotionUpdated(Event):
    state: EmotionState
    type: ClassVar[str] = "state"

    def _fields(self) -> dict[str, Any]:
        s = self.state
        return {
            "dominant": s.dominant,
            "complex": s.top_complex(),
            "valence": _r(s.valence),
            "arousal": _r(s.arousal),
            "confidence": _r(s.confidence),
            "probs": {k: _r(v) for k, v in s.probs.items()},
            "complex_states": {k: _r(v) for k, v in s.complex_states.items()},
            "contributions": {k: _r(v) for k, v in s.contributions.items()},
            "cues": [f"{c.modality} {c}" for c in s.cues],
            "explanation": s.explanation,
        }


@dataclass(frozen=True, slots=True)
class Transcript(Event):
    """Words recognised in speech."""

    turn: TextTurn
    type: ClassVar[str] = "transcript"

    def _fields(self) -> dict[str, Any]:
        meta = self.turn.meta
        extra = {k: meta[k] for k in ("language", "language_probability", "words") if k in meta}
        return {"text": self.turn.text, "speaker": self.turn.speaker, **extra}


@dataclass(frozen=True, slots=True)
class TurnEnded(Event):
    turn: TextTurn
    type: ClassVar[str] = "turn_end"

    def _fields(self) -> dict[str, Any]:
        return {"text": self.turn.text, "source": self.turn.source}


@dataclass(frozen=True, slots=True)
class DirectiveChosen(Event):
    directive: ToneDirective
    type: ClassVar[str] = "directive"

    def _fields(self) -> dict[str, Any]:
        d = self.directive
        return {
            "tone": d.tone,
            "moves": list(d.moves),
            "verbosity": d.verbosity,
            "pacing": d.pacing,
            "escalate": d.escalate,
            "reasons": list(d.reasons),
            "handoff_summary": d.handoff_summary,
        }


@dataclass(frozen=True, slots=True)
class ResponseChunk(Event):
    text: str
    type: ClassVar[str] = "response_chunk"

    def _fields(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True, slots=True)
class ResponseCompleted(Event):
    text: str
    responder: str
    fallback: bool = False
    type: ClassVar[str] = "response"

    def _fields(self) -> dict[str, Any]:
        return {"text": self.text, "responder": self.responder, "fallback": self.fallback}


@dataclass(frozen=True, slots=True)
class ComponentFailed(Event):
    """A component failed on one input; the session went on without it."""

    component: str
    error: str
    retryable: bool
    type: ClassVar[str] = "error"

    def _fields(self) -> dict[str, Any]:
        return {"component": self.component, "error": self.error, "retryable": self.retryable}

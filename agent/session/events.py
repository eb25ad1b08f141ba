"""Session events: what observers (UI, HTTP clients, logs, metrics) see, each with a media timestamp ``t``.

``to_record()`` gives the JSON-ready dict of the ``empathic run`` timeline, the same way for every event: its
fields in order, a nested value with a record of its own (an emotion state, a directive, a turn) flattened into
it, and floats rounded so a replay prints byte-identical lines. ``Event`` is the union of the event types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, ClassVar

import numpy as np
from empathic.perception import EmotionState, Episode, ModalityEstimate, TextTurn
from empathic.policies import ToneDirective


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: floats to 4 places, sequences as lists, mappings and dataclasses as dicts."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float | np.floating):
        return round(float(value), 4)
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "to_record"):
        return jsonable(value.to_record())
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    return str(value)


@dataclass(frozen=True, slots=True)
class BaseEvent:
    """What every event has: its media time and, as ``type``, its name in a timeline."""

    t: float
    type: ClassVar[str] = "event"
    # the keys of a flattened nested record this event keeps (None: all); a turn shows differently as a transcript
    turn_keys: ClassVar[tuple[str, ...] | None] = None

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": self.type, "t": jsonable(self.t)}
        for f in fields(self)[1:]:
            value = getattr(self, f.name)
            as_json = jsonable(value)
            if isinstance(as_json, dict) and not isinstance(value, Mapping):  # a nested record: flatten it
                keep = self.turn_keys if isinstance(value, TextTurn) else None
                record.update((k, v) for k, v in as_json.items() if keep is None or k in keep)
            else:
                record[f.name] = as_json
        return record


@dataclass(frozen=True, slots=True)
class EstimateMade(BaseEvent):
    """One perceiver's estimate, before fusion."""

    estimate: ModalityEstimate
    type: ClassVar[str] = "estimate"


@dataclass(frozen=True, slots=True)
class EpisodeDetected(BaseEvent):
    """A brief event a perceiver found (e.g. a micro-expression), stamped at its offset."""

    modality: str
    episode: Episode
    type: ClassVar[str] = "episode"


@dataclass(frozen=True, slots=True)
class EmotionUpdated(BaseEvent):
    state: EmotionState
    type: ClassVar[str] = "state"


@dataclass(frozen=True, slots=True)
class Transcript(BaseEvent):
    """Words recognised in speech."""

    turn: TextTurn
    type: ClassVar[str] = "transcript"
    turn_keys: ClassVar[tuple[str, ...] | None] = ("text", "speaker", "language", "language_probability", "words")


@dataclass(frozen=True, slots=True)
class TurnEnded(BaseEvent):
    turn: TextTurn
    type: ClassVar[str] = "turn_end"
    turn_keys: ClassVar[tuple[str, ...] | None] = ("text", "source")


@dataclass(frozen=True, slots=True)
class DirectiveChosen(BaseEvent):
    directive: ToneDirective
    type: ClassVar[str] = "directive"


@dataclass(frozen=True, slots=True)
class ResponseChunk(BaseEvent):
    text: str
    type: ClassVar[str] = "response_chunk"


@dataclass(frozen=True, slots=True)
class ResponseCompleted(BaseEvent):
    text: str
    responder: str
    fallback: bool = False
    type: ClassVar[str] = "response"


@dataclass(frozen=True, slots=True)
class SpeechStarted(BaseEvent):
    """The reply's first audio is out: the agent is speaking, in ``voice``."""

    voice: str
    type: ClassVar[str] = "speech_start"


@dataclass(frozen=True, slots=True)
class SpeechAudio(BaseEvent):
    """A piece of the spoken reply (at most ``SpeechOutput.chunk_s``), stamped with the time it starts playing."""

    audio: np.ndarray = field(compare=False, repr=False)
    sample_rate: int
    sentence: int
    type: ClassVar[str] = "speech_audio"

    def to_record(self) -> dict[str, Any]:
        """The samples stay out of a timeline: their count stands for them."""
        return {
            "type": self.type,
            "t": jsonable(self.t),
            "samples": int(self.audio.size),
            "sample_rate": self.sample_rate,
            "sentence": self.sentence,
        }


@dataclass(frozen=True, slots=True)
class SpeechStopped(BaseEvent):
    """Playback ended, at the reply's end or ``interrupted``; ``heard`` is what the person heard of it."""

    heard: str
    spoken_s: float
    interrupted: bool
    type: ClassVar[str] = "speech_stop"


@dataclass(frozen=True, slots=True)
class ComponentFailed(BaseEvent):
    """A component failed on one input; the session went on without it."""

    component: str
    error: str
    retryable: bool
    type: ClassVar[str] = "error"


Event = (
    EstimateMade
    | EpisodeDetected
    | EmotionUpdated
    | Transcript
    | TurnEnded
    | DirectiveChosen
    | ResponseChunk
    | ResponseCompleted
    | SpeechStarted
    | SpeechAudio
    | SpeechStopped
    | ComponentFailed
)

"""The speech-to-text seam: audio chunks in, finished user utterances out.

A transcriber owns voice activity and end-of-turn detection: ``feed`` returns the utterances that ended inside the
chunk, ``flush`` those still open when the stream ends. Each :class:`Utterance` carries the words as a
``TextTurn(source='asr')`` and any estimates made from the same audio (vocal emotion, prosody), so one encoder pass
can serve both. The session fuses the estimates first, then treats the turn as a turn end.

A transcriber that buffers audio should also have ``reset()``: the session calls it when the microphone is revoked,
so speech heard before a revoke is dropped at once and never transcribed after a re-grant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from empathic.perception.estimates import ModalityEstimate
from empathic.perception.observations import AudioChunk, TextTurn


@dataclass(frozen=True, slots=True)
class Utterance:
    """One finished stretch of user speech: its words and what else its audio showed."""

    turn: TextTurn
    estimates: tuple[ModalityEstimate, ...] = ()


@runtime_checkable
class Transcriber(Protocol):
    name: str

    async def feed(self, chunk: AudioChunk) -> Sequence[Utterance]: ...

    async def flush(self) -> Sequence[Utterance]: ...

"""The speech-to-text seam: audio chunks in, finished user utterances out.

A transcriber owns voice activity and end-of-turn detection: ``feed`` returns the utterances that ended inside the
chunk, ``flush`` those still open when the stream ends. Each :class:`Utterance` carries the words as a
``TextTurn(source='asr')`` and any estimates made from the same audio (vocal emotion, prosody), so one encoder pass
can serve both. The session fuses the estimates first, then treats the turn as a turn end.

A transcriber that buffers audio should also have ``reset()``: the session calls it when the microphone is revoked,
so speech heard before a revoke is dropped at once and never transcribed after a re-grant.

A transcriber that :class:`HearsPlayback` is told what the agent plays, so the agent's own voice coming back through
the speakers is not taken for the user's, and it reports barge-in (the user talking over the agent) to the host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from empathic.perception.estimates import ModalityEstimate
from empathic.perception.observations import AudioChunk, TextTurn


@dataclass(frozen=True, slots=True)
class Utterance:
    """One finished stretch of user speech: its words and what else its audio showed."""

    turn: TextTurn
    estimates: tuple[ModalityEstimate, ...] = ()


@dataclass(frozen=True, slots=True)
class BargeIn:
    """The user interrupted: ``t`` when it was decided, ``onset`` when their speech began (media times), and how
    much of their speech over the playback it took."""

    t: float
    onset: float
    speech_s: float


@runtime_checkable
class Transcriber(Protocol):
    name: str

    async def feed(self, chunk: AudioChunk) -> Sequence[Utterance]: ...

    async def flush(self) -> Sequence[Utterance]: ...


@runtime_checkable
class HearsPlayback(Protocol):
    """The listening half of a spoken conversation; times are media times on the microphone's clock."""

    on_barge_in: Callable[[BargeIn], object] | None
    """Set by the host: called on the event loop when the user talks over the playback (stop it then)."""

    def play(self, samples: np.ndarray, sample_rate: int, t: float) -> None:
        """The agent plays ``samples`` from media time ``t`` on."""
        ...

    def stop_playback(self, t: float) -> None:
        """Playback was cut at media time ``t``."""
        ...

"""The speech-to-text seam: audio chunks in, finished user utterances out as ``TextTurn(source='asr')``.

A transcriber owns voice activity and end-of-turn detection: ``feed`` returns the utterances that ended inside the
chunk, ``flush`` those still open when the stream ends. The session treats each returned turn as a turn end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from perception.observations import AudioChunk, TextTurn


@runtime_checkable
class Transcriber(Protocol):
    name: str

    async def feed(self, chunk: AudioChunk) -> Sequence[TextTurn]: ...

    async def flush(self) -> Sequence[TextTurn]: ...

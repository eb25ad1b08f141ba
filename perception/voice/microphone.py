"""Live microphone input through PyAudio (the ``[local]`` extra), as timestamped :class:`AudioChunk` s.

Chunk times are media times counted from the samples delivered, not the wall clock, so a session fed from the
microphone behaves exactly like one replaying a recording of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from empathic.perception._optional import require
from empathic.perception.errors import EmpathicError
from empathic.perception.observations import AudioChunk


class MicrophoneUnavailable(EmpathicError):
    """PortAudio is installed but there is no usable input device (none present, busy, or access denied)."""


def _pyaudio() -> Any:
    pyaudio = require("pyaudio", "local", "microphone capture (also needs the PortAudio library)")
    return pyaudio


async def microphone_chunks(
    device: int | None = None, *, sample_rate: int = 16000, chunk_s: float = 0.1
) -> AsyncIterator[AudioChunk]:
    """Mono int16 chunks of ``chunk_s`` seconds from ``device`` (the default input when None), until cancelled.

    Raises :class:`MissingDependency` without PyAudio and :class:`MicrophoneUnavailable` without an input device.
    """
    pyaudio = _pyaudio()
    pa = pyaudio.PyAudio()
    frames = max(1, round(sample_rate * chunk_s))
    try:
        stream = pa.open(
            format=pyaudio.paInt16,
            channels=1,
            rate=sample_rate,
            input=True,
            input_device_index=device,
            frames_per_buffer=frames,
        )
    except (OSError, ValueError) as exc:
        pa.terminate()
        which = "(default)" if device is None else device
        raise MicrophoneUnavailable(f"cannot open microphone {which}: {exc}") from exc
    delivered = 0
    try:
        while True:
            raw = await asyncio.to_thread(stream.read, frames, exception_on_overflow=False)
            samples = np.frombuffer(raw, dtype=np.int16)
            yield AudioChunk(delivered / sample_rate, samples, sample_rate)
            delivered += samples.size
    finally:
        stream.stop_stream()
        stream.close()
        pa.terminate()

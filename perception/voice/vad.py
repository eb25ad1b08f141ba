"""Voice activity: is this 30 ms of 16 kHz audio speech?

Silero VAD (ONNX, run by onnxruntime, weights from the model registry) is the default: it ignores tones, music
and steady noise that an energy gate would pass to Whisper, which then invents words for them. ``webrtcvad`` is
the light fallback when the Silero weights are not fetched; it is cruder (a yes/no per frame).
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Protocol

import numpy as np
from empathic.perception.device import onnx_session
from empathic.perception.errors import ModelError
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.voice.audio import RATE, pcm16

log = logging.getLogger(__name__)


class Vad(Protocol):
    """A stateful detector fed consecutive frames of ``frame_size`` samples."""

    name: str
    frame_size: int

    def probability(self, frame: np.ndarray) -> float:
        """Speech probability of the next frame (exactly ``frame_size`` float32 samples at 16 kHz)."""
        ...

    def reset(self) -> None:
        """Forget the stream so far (a new stream starts)."""
        ...


@functools.cache
def _silero_session(path: str, threads: int) -> Any:
    """One onnxruntime session per weights file: ``run`` is thread-safe and the recurrent state is passed in, so
    every stream (session) shares it and keeps only its own state."""
    return onnx_session(path, threads=threads, gpu=True)


class SileroVad:
    """Silero VAD v5: 512-sample frames with 64 samples of context and a recurrent state carried between calls.

    The model is shared by every instance of the process; an instance holds one stream's state.
    """

    name = "silero-vad"
    frame_size = 512
    _context = 64

    def __init__(self, registry: ModelRegistry | None = None, threads: int = 1) -> None:
        path = (registry or default_registry()).file("silero-vad")
        self._session = _silero_session(str(path), threads)
        self._sr = np.array(RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._last = np.zeros(self._context, dtype=np.float32)

    def probability(self, frame: np.ndarray) -> float:
        x = np.concatenate([self._last, frame.astype(np.float32)])[None, :]
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._last = x[0, -self._context :]
        return float(out[0, 0])


class WebRtcVad:
    """Google's WebRTC detector (``webrtcvad-wheels``): 30 ms frames, 0 or 1, ``aggressiveness`` 0-3."""

    name = "webrtcvad"
    frame_size = 480

    def __init__(self, aggressiveness: int = 2) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(aggressiveness)

    def reset(self) -> None:
        return None

    def probability(self, frame: np.ndarray) -> float:
        pcm = pcm16(frame).tobytes()
        return 1.0 if self._vad.is_speech(pcm, RATE) else 0.0


def load_vad(kind: str = "auto", registry: ModelRegistry | None = None) -> Vad:
    """``silero``, ``webrtc``, or ``auto``: Silero when its weights are fetched and intact, else webrtcvad."""
    if kind == "silero":
        return SileroVad(registry)
    if kind == "webrtc":
        return WebRtcVad()
    if kind != "auto":
        raise ValueError(f"unknown VAD {kind!r}; expected auto, silero or webrtc")
    try:
        return SileroVad(registry)
    except ModelError as exc:
        log.warning("Silero VAD unavailable (%s); using webrtcvad", exc)
        return WebRtcVad()

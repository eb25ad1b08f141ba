"""What sources yield: timestamped observations of one moment of a conversation.

``t`` is the media timestamp in seconds from the start of the session. Nothing reads the wall clock, so a
recording replays identically and as fast as the CPU allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from empathic.perception.errors import ObservationError

Speaker = Literal["user", "agent"]


def _check_time(t: float) -> None:
    if not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise ObservationError(f"timestamp must be a finite number >= 0, got {t!r}")


@dataclass(frozen=True, slots=True, eq=False)
class VideoFrame:
    """One RGB (H, W, 3) or grey (H, W) uint8 image from a camera or a video file."""

    t: float
    image: np.ndarray

    def __post_init__(self) -> None:
        _check_time(self.t)
        img = self.image
        if not isinstance(img, np.ndarray):
            raise ObservationError(f"VideoFrame.image must be a numpy array, got {type(img).__name__}")
        if img.dtype != np.uint8:
            raise ObservationError(f"VideoFrame.image must be uint8, got {img.dtype}")
        if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
            raise ObservationError(f"VideoFrame.image must be (H, W, 3) or (H, W), got shape {img.shape}")
        if img.shape[0] < 1 or img.shape[1] < 1:
            raise ObservationError(f"VideoFrame.image is empty: shape {img.shape}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class AudioChunk:
    """Samples from a microphone or a file: (n,) mono or (n, channels), any numeric dtype, any rate."""

    t: float
    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        _check_time(self.t)
        s = self.samples
        if not isinstance(s, np.ndarray):
            raise ObservationError(f"AudioChunk.samples must be a numpy array, got {type(s).__name__}")
        if s.dtype.kind not in "iuf":
            raise ObservationError(f"AudioChunk.samples must be numeric, got {s.dtype}")
        if s.ndim not in (1, 2) or s.size == 0:
            raise ObservationError(f"AudioChunk.samples must be non-empty (n,) or (n, channels), got {s.shape}")
        if not isinstance(self.sample_rate, int) or not 1000 <= self.sample_rate <= 384_000:
            raise ObservationError(f"AudioChunk.sample_rate must be an int in [1000, 384000], got {self.sample_rate!r}")

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    def mono_float(self) -> np.ndarray:
        """Samples as mono float32 in [-1, 1]; integer PCM is scaled by its type's range."""
        s = self.samples
        if s.dtype.kind in "iu":
            info = np.iinfo(s.dtype)
            x = (s.astype(np.float32) - (info.max + info.min + 1) / 2) / ((info.max - info.min + 1) / 2)
        else:
            x = np.clip(np.nan_to_num(s, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0).astype(np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1)
        return np.clip(x, -1.0, 1.0)


@dataclass(frozen=True, slots=True)
class TextTurn:
    """One turn of words: typed, or transcribed from speech (``source='asr'``)."""

    t: float
    text: str
    speaker: Speaker = "user"
    source: Literal["typed", "asr"] = "typed"
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _check_time(self.t)
        if not isinstance(self.text, str):
            raise ObservationError(f"TextTurn.text must be str, got {type(self.text).__name__}")
        if self.speaker not in ("user", "agent"):
            raise ObservationError(f"TextTurn.speaker must be 'user' or 'agent', got {self.speaker!r}")

    def to_record(self) -> dict[str, object]:
        """The words and who said them, with what speech recognition adds (language, word times) when present."""
        meta = {k: self.meta[k] for k in ("language", "language_probability", "words") if k in self.meta}
        return {"text": self.text, "speaker": self.speaker, "source": self.source, **meta}


Observation = VideoFrame | AudioChunk | TextTurn

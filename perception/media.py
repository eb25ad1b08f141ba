"""Decoding media that arrive as bytes (HTTP uploads, browser streams), checked by content, never by name.

Each decoder looks at the leading bytes to decide what the data are, enforces a size limit before decoding, and
raises :class:`ObservationError` for anything it cannot or may not decode.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np
from PIL import Image

from perception.errors import ObservationError

_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg", b"RIFF": "webp", b"BM": "bmp"}
_AUDIO_MAGIC = {
    b"ID3": "mp3",
    b"\xff\xfb": "mp3",
    b"\xff\xf3": "mp3",
    b"OggS": "ogg",
    b"fLaC": "flac",
    b"\x1aE\xdf\xa3": "webm",
}


def sniff_image(data: bytes) -> str | None:
    for magic, kind in _IMAGE_MAGIC.items():
        if data.startswith(magic) and (kind != "webp" or data[8:12] == b"WEBP"):
            return kind
    return None


def decode_image(data: bytes, max_pixels: int = 1920 * 1080) -> np.ndarray:
    """RGB uint8 image from PNG/JPEG/WebP/BMP bytes, refusing anything larger than ``max_pixels``."""
    import cv2

    if sniff_image(data) is None:
        raise ObservationError("not an image: expected PNG, JPEG, WebP or BMP content")
    try:  # the header alone gives the size, so a decompression bomb is refused before it is decoded
        width, height = Image.open(io.BytesIO(data)).size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ObservationError(f"image data are truncated or corrupt: {exc}") from exc
    if width * height > max_pixels:
        raise ObservationError(f"image of {width}x{height} is larger than {max_pixels} pixels")
    buf = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ObservationError("image data are truncated or corrupt")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def decode_audio(data: bytes, max_seconds: float = 30.0, sample_rate: int = 16000) -> tuple[np.ndarray, int]:
    """Samples and rate from WAV bytes (read as they are) or MP3/Ogg/FLAC/WebM bytes (decoded by ffmpeg to mono)."""
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(data), "rb") as w:
                width, channels, rate, n = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
                if n / max(rate, 1) > max_seconds:
                    raise ObservationError(f"audio longer than {max_seconds} s")
                raw = w.readframes(n)
        except (wave.Error, EOFError) as exc:
            raise ObservationError(f"corrupt wav: {exc}") from exc
        dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
        if dtype is None or channels < 1:
            raise ObservationError(f"unsupported wav: {width}-byte samples, {channels} channels")
        samples = np.frombuffer(raw[: len(raw) - len(raw) % (width * channels)], dtype=dtype)
        if samples.size == 0:
            raise ObservationError("wav holds no samples")
        return (samples.reshape(-1, channels) if channels > 1 else samples), rate
    if not any(data.startswith(m) for m in _AUDIO_MAGIC):
        raise ObservationError("not audio: expected WAV, MP3, Ogg, FLAC or WebM content")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ObservationError("compressed audio needs ffmpeg, which is not installed; send WAV")
    proc = subprocess.run(
        [
            ffmpeg,
            "-nostdin",
            "-v",
            "error",
            "-i",
            "pipe:0",
            "-t",
            str(max_seconds),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(sample_rate),
            "pipe:1",
        ],
        input=data,
        capture_output=True,
        check=False,
        timeout=30,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise ObservationError("audio data are truncated or corrupt")
    return np.frombuffer(proc.stdout, dtype=np.int16), sample_rate

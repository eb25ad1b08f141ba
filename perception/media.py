"""Decoding media that arrive as bytes (HTTP uploads, browser streams), checked by content, never by name.

Each decoder looks at the leading bytes to decide what the data are, enforces a size limit before decoding, and
raises :class:`ObservationError` for anything it cannot or may not decode.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
from empathic.perception.errors import MissingDependency, ObservationError
from PIL import Image

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


def wav_samples(w: wave.Wave_read, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """PCM samples of an open wav, (n,) or (n, channels), at its own rate; 8, 16, 24 and 32-bit."""
    width, channels, rate, n = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
    if max_seconds is not None and n / max(rate, 1) > max_seconds:
        raise ObservationError(f"audio longer than {max_seconds} s")
    raw = w.readframes(n)
    raw = raw[: len(raw) - len(raw) % max(1, width * channels)]
    if width == 3:  # 24-bit PCM: each little-endian triple becomes the top three bytes of an int32
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
        samples = (triples[:, 0] << 8 | triples[:, 1] << 16 | triples[:, 2] << 24).view(np.int32)
    else:
        dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
        if dtype is None or channels < 1:
            raise ObservationError(f"unsupported wav: {width}-byte samples, {channels} channels")
        samples = np.frombuffer(raw, dtype=dtype)
    if samples.size == 0:
        raise ObservationError("wav holds no samples")
    return (samples.reshape(-1, channels) if channels > 1 else samples), rate


def ffmpeg_pcm(source: Path | bytes, sample_rate: int = 16000, max_seconds: float | None = None) -> np.ndarray:
    """Mono int16 samples at ``sample_rate`` of any audio or video ffmpeg can read (a path, or bytes)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MissingDependency("ffmpeg", "system", "decoding compressed audio (apt-get install ffmpeg; or send wav)")
    limit = ["-t", str(max_seconds)] if max_seconds is not None else []
    src = "pipe:0" if isinstance(source, bytes) else str(source)
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", src, *limit, "-f", "s16le", "-ac", "1", "-ar", str(sample_rate),
           "pipe:1"]  # fmt: skip
    proc = subprocess.run(
        cmd, input=source if isinstance(source, bytes) else None, capture_output=True, check=False, timeout=120
    )
    if proc.returncode != 0 or not proc.stdout:
        raise ObservationError(f"not decodable audio: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout, dtype=np.int16)


def decode_audio(data: bytes, max_seconds: float = 30.0, sample_rate: int = 16000) -> tuple[np.ndarray, int]:
    """Samples and rate from WAV bytes (read as they are) or MP3/Ogg/FLAC/WebM bytes (decoded by ffmpeg to mono)."""
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(data), "rb") as w:
                return wav_samples(w, max_seconds)
        except (wave.Error, EOFError) as exc:
            raise ObservationError(f"corrupt wav: {exc}") from exc
    if not any(data.startswith(m) for m in _AUDIO_MAGIC):
        raise ObservationError("not audio: expected WAV, MP3, Ogg, FLAC or WebM content")
    try:
        return ffmpeg_pcm(data, sample_rate, max_seconds), sample_rate
    except MissingDependency as exc:
        raise ObservationError(str(exc)) from exc

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


_PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"  # KSDATAFORMAT_SUBTYPE_PCM


def plain_pcm_wav(data: bytes) -> bytes:
    """``data`` with a WAVE_FORMAT_EXTENSIBLE PCM header (sox, many recorders) relabelled as plain PCM.

    Python's :mod:`wave` reads only format tag 1; an extensible header holding PCM has the same sample layout, so
    only the tag changes. Anything else (float, compressed) is left as it is, for :mod:`wave` to refuse.
    """
    pos = 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if data[pos : pos + 4] == b"fmt ":
            fmt = data[pos + 8 : pos + 8 + size]
            if len(fmt) >= 40 and fmt[:2] == b"\xfe\xff" and fmt[26:40] == _PCM_GUID_TAIL and fmt[24:26] == b"\x01\x00":
                return data[: pos + 8] + b"\x01\x00" + data[pos + 10 :]
            return data
        pos += 8 + size + size % 2
    return data


def ffmpeg_pcm(source: Path | bytes, sample_rate: int = 16000, max_seconds: float | None = None) -> np.ndarray:
    """Mono int16 samples at ``sample_rate`` of any audio or video ffmpeg can read (a path, or bytes).

    Audio longer than ``max_seconds`` is refused, not cut (ffmpeg decodes at most a little more, to tell). For bytes,
    which come from clients, an error says only that the data are not decodable: ffmpeg's own messages stay here.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MissingDependency("ffmpeg", "system", "decoding compressed audio (apt-get install ffmpeg; or send wav)")
    limit = ["-t", f"{max_seconds + 0.5:.3f}"] if max_seconds is not None else []
    src = "pipe:0" if isinstance(source, bytes) else str(source)
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", src, *limit, "-f", "s16le", "-ac", "1", "-ar", str(sample_rate),
           "pipe:1"]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd, input=source if isinstance(source, bytes) else None, capture_output=True, check=False, timeout=120
        )
    except subprocess.TimeoutExpired as exc:
        raise ObservationError("audio took too long to decode") from exc
    if proc.returncode != 0 or not proc.stdout:
        detail = "" if isinstance(source, bytes) else f": {proc.stderr.decode(errors='replace')[-300:]}"
        raise ObservationError(f"not decodable audio (ffmpeg exit code {proc.returncode}){detail}")
    samples = np.frombuffer(proc.stdout, dtype=np.int16)
    if max_seconds is not None and samples.size > max_seconds * sample_rate:
        raise ObservationError(f"audio longer than {max_seconds} s")
    return samples


def decode_audio(data: bytes, max_seconds: float = 30.0, sample_rate: int = 16000) -> tuple[np.ndarray, int]:
    """Samples and rate from WAV bytes (read as they are) or MP3/Ogg/FLAC/WebM bytes (decoded by ffmpeg to mono).

    Audio longer than ``max_seconds`` is refused whatever its format.
    """
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(plain_pcm_wav(data)), "rb") as w:
                return wav_samples(w, max_seconds)
        except (wave.Error, EOFError) as exc:
            raise ObservationError(f"corrupt or unsupported wav: {exc}") from exc
    if not any(data.startswith(m) for m in _AUDIO_MAGIC):
        raise ObservationError("not audio: expected WAV, MP3, Ogg, FLAC or WebM content")
    try:
        return ffmpeg_pcm(data, sample_rate, max_seconds), sample_rate
    except MissingDependency as exc:
        raise ObservationError(str(exc)) from exc

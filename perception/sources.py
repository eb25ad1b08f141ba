"""Sources: where observations come from. Each yields observations in media-time order.

File sources read recordings for replay; :func:`merge` interleaves several by timestamp; :func:`latest_only`
wraps a live source so that a slow consumer sees the newest frame instead of a growing backlog.
"""

from __future__ import annotations

import asyncio
import heapq
import wave
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path

import numpy as np
from empathic.perception.errors import ObservationError
from empathic.perception.media import ffmpeg_pcm, wav_samples
from empathic.perception.observations import AudioChunk, Observation, TextTurn, VideoFrame

# At equal timestamps, media comes before the words it accompanies, so a turn end sees the latest face and voice.
_ORDER = {VideoFrame: 0, AudioChunk: 1, TextTurn: 2}


def text_file_turns(path: Path | str, gap: float = 4.0) -> list[TextTurn]:
    """One user turn per non-empty line, ``gap`` seconds apart (lines starting with '#' are comments)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    texts = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    return [TextTurn(t=(i + 1) * gap, text=text) for i, text in enumerate(texts)]


def video_file_frames(path: Path | str, max_fps: float = 0.0) -> Iterator[VideoFrame]:
    """RGB frames of a video file with their timestamps; at most ``max_fps`` per second when > 0."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ObservationError(f"cannot open video {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    index, last = 0, float("-inf")
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            t = index / fps
            index += 1
            if max_fps > 0 and t - last < 1.0 / max_fps - 1e-9:
                continue
            last = t
            yield VideoFrame(t, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()


def read_audio(path: Path | str, sample_rate: int = 16000) -> tuple[np.ndarray, int]:
    """Samples of an audio file (or a video's audio track) and their rate.

    PCM wav is read directly at its own rate; anything else (mp3, flac, mp4, ...) is decoded by ffmpeg to
    mono ``sample_rate``.
    """
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            return wav_samples(w)
    except (wave.Error, EOFError):
        pass
    except ObservationError as exc:
        raise ObservationError(f"{path}: {exc}") from exc
    try:
        return ffmpeg_pcm(path, sample_rate), sample_rate
    except ObservationError as exc:
        raise ObservationError(f"{path}: {exc}") from exc


def audio_file_chunks(path: Path | str, chunk_s: float = 0.5) -> Iterator[AudioChunk]:
    """An audio file cut into ``chunk_s`` chunks stamped with their start time."""
    samples, rate = read_audio(path)
    step = max(1, round(chunk_s * rate))
    for start in range(0, samples.shape[0], step):
        yield AudioChunk(start / rate, samples[start : start + step], rate)


def merge(*streams: Iterable[Observation]) -> Iterator[Observation]:
    """Interleave time-ordered streams by timestamp; ties go media first, then words."""
    return heapq.merge(*streams, key=lambda o: (o.t, _ORDER[type(o)]))


async def replay(observations: Iterable[Observation]) -> AsyncIterator[Observation]:
    """An async source over recorded observations, as fast as they are consumed."""
    for obs in observations:
        yield obs


async def latest_only(source: AsyncIterable[Observation]) -> AsyncIterator[Observation]:
    """Live sources: keep pulling from ``source`` while the consumer works and hand it only the newest video frame.

    Audio and text are never dropped (words and speech would be lost); frames older than the newest are.
    """
    queue: list[Observation] = []
    ready = asyncio.Event()
    done = False

    async def pump() -> None:
        nonlocal done
        try:
            async for obs in source:
                if isinstance(obs, VideoFrame):
                    queue[:] = [o for o in queue if not isinstance(o, VideoFrame)]
                queue.append(obs)
                ready.set()
        finally:
            done = True
            ready.set()

    task = asyncio.create_task(pump())
    try:
        while True:
            await ready.wait()
            ready.clear()
            while queue:
                yield queue.pop(0)
            if done:
                break
        await task
    finally:
        task.cancel()

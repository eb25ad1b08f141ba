"""``empathic bench face``: per-frame milliseconds of the face pipeline and of pose at 640x480 on one core.

Frames are a real face photo (scikit-image's astronaut, public domain) placed in a 640x480 frame and moved a
few pixels each frame, so tracking works as it would on a webcam. The process is pinned to one CPU first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import cv2
import numpy as np
from empathic.agent.session.latency import latency_summary
from empathic.perception._optional import require
from empathic.perception.face.body import BodyPerceiver
from empathic.perception.face.perceiver import FacePerceiver
from empathic.perception.observations import VideoFrame

WIDTH, HEIGHT = 640, 480


def bench_frames(n: int) -> list[np.ndarray]:
    """``n`` 640x480 RGB frames of a face drifting slowly around the centre."""
    photo = require("skimage.data", "dev", "the benchmark photo").astronaut()
    face = cv2.resize(photo, (400, 400))
    frames = []
    for i in range(n):
        frame = np.full((HEIGHT, WIDTH, 3), 96, np.uint8)
        dx, dy = round(20 * np.sin(i / 9)), round(10 * np.cos(i / 7))
        x0, y0 = 120 + dx, 40 + dy
        frame[y0 : y0 + 400, x0 : x0 + 400] = face
        frames.append(frame)
    return frames


def _pin_one_core() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _time(fn: Callable[[VideoFrame], object], frames: list[np.ndarray], warmup: int = 5) -> dict[str, float]:
    for i, img in enumerate(frames[:warmup]):
        fn(VideoFrame(i / 15, img))
    seconds = []
    for i, img in enumerate(frames):
        start = time.perf_counter()
        fn(VideoFrame((warmup + i) / 15, img))
        seconds.append(time.perf_counter() - start)
    return latency_summary(seconds)


def bench_face(n: int = 200) -> dict[str, object]:
    cores = _pin_one_core()
    frames = bench_frames(n)
    face = FacePerceiver()
    face_ms = _time(face.predict, frames)
    read = face.predict(VideoFrame(1e3, frames[0]))
    every = FacePerceiver(detect_every=1)
    every_ms = _time(every.predict, frames)
    body = BodyPerceiver()
    pose_ms = _time(body.predict, frames[: max(10, n // 4)])
    for p in (face, every, body):
        p.close()
    return {
        "frames": n,
        "size": f"{WIDTH}x{HEIGHT}",
        "cores": cores,
        "face_pipeline": face_ms | {"stages": "detection (every 3rd frame) + mesh + expression + action units"},
        "face_pipeline_detect_every_frame": every_ms,
        "pose": pose_ms,
        "face_found": bool(read and read.confidence > 0),
    }

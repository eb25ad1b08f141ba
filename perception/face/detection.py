"""Face detection: every face in the frame as a box, so the tracker can pick the user and count the others."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from empathic.perception._optional import require


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A detected face in frame pixels with the detector's score."""

    x: float
    y: float
    w: float
    h: float
    score: float

    @property
    def area(self) -> float:
        return self.w * self.h

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.w, self.h

    def iou(self, other: FaceBox) -> float:
        ix = max(0.0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


class FaceDetector:
    """MediaPipe's short-range face detector (faces within about 2 m: a webcam user), loaded on first use.

    It keeps nothing between frames, so sessions may share one; a lock serialises calls (a MediaPipe graph is not
    thread-safe).
    """

    def __init__(self, min_score: float = 0.5) -> None:
        self.min_score = min_score
        self._detector: Any = None
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        h, w = rgb.shape[:2]
        with self._lock:
            if self._detector is None:
                mp = require("mediapipe", "face", "face detection")
                self._detector = mp.solutions.face_detection.FaceDetection(
                    model_selection=0, min_detection_confidence=self.min_score
                )
            result = self._detector.process(rgb)
        boxes = []
        for det in result.detections or ():
            b = det.location_data.relative_bounding_box
            boxes.append(FaceBox(b.xmin * w, b.ymin * h, b.width * w, b.height * h, float(det.score[0])))
        return boxes

    def close(self) -> None:
        with self._lock:
            if self._detector is not None:
                self._detector.close()
                self._detector = None

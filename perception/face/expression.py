"""Facial expression from texture: the FER2013-trained mini-Xception (int8 TFLite, 64x64 grey in [-1, 1]).

The crop copies FER2013's framing (eyes level, a third of the crop apart, at 40% of its height) so the network
sees faces the way it was trained; each crop is also classified mirrored and the two softmaxes averaged.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from empathic.perception._optional import require
from empathic.perception.face.landmarks import (
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    Landmarks,
)
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.registry import ModelRegistry, default_registry

MODEL_ID = "fer-mini-xception"
INPUT = 64
MODEL_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EYE_DISTANCE = 1 / 3  # of the crop side
EYE_HEIGHT = 0.394


def aligned_crop(grey: np.ndarray, lm: Landmarks, zoom: float = 1.0) -> np.ndarray:
    """64x64 crop of the face, rotated so the eyes are level and scaled to FER2013's framing."""
    p = lm.points
    right = p[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER], :2].mean(axis=0)
    left = p[[LEFT_EYE_INNER, LEFT_EYE_OUTER], :2].mean(axis=0)
    centre = (right + left) / 2
    dx, dy = left - right
    scale = EYE_DISTANCE * INPUT * zoom / max(float(np.hypot(dx, dy)), 1e-6)
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(np.degrees(np.arctan2(dy, dx))), scale)
    m[0, 2] += INPUT / 2 - centre[0]
    m[1, 2] += EYE_HEIGHT * INPUT - centre[1]
    return cv2.warpAffine(grey, m, (INPUT, INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def whole_crop(grey: np.ndarray, zoom: float = 1.0) -> np.ndarray:
    """64x64 view of an image that is already a face crop; ``zoom`` > 1 shows a little more around it."""
    h, w = grey.shape[:2]
    k = INPUT / (max(h, w) * zoom)
    m = np.array([[k, 0.0, INPUT / 2 - k * w / 2], [0.0, k, INPUT / 2 - k * h / 2]])
    return cv2.warpAffine(grey, m, (INPUT, INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class ExpressionClassifier:
    """The mini-Xception through ai-edge-litert on one thread; weights resolved through the model registry.

    Sessions may share one: it keeps nothing between calls, and a lock serialises them (an interpreter holds its
    input and output tensors).
    """

    def __init__(self, registry: ModelRegistry | None = None, model_path: Path | None = None) -> None:
        self._registry = registry
        self._path = model_path
        self._interp: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._interp is None:
            litert = require("ai_edge_litert.interpreter", "face", "the expression classifier")
            path = self._path or (self._registry or default_registry()).file(MODEL_ID)
            interp = litert.Interpreter(model_path=str(path), num_threads=1)
            interp.allocate_tensors()
            self._in = interp.get_input_details()[0]["index"]
            self._out = interp.get_output_details()[0]["index"]
            self._interp = interp
        return self._interp

    def _softmax(self, crop: np.ndarray) -> np.ndarray:
        interp = self._load()
        x = crop.astype(np.float32) * (2.0 / 255.0) - 1.0
        interp.set_tensor(self._in, x[None, :, :, None])
        interp.invoke()
        return interp.get_tensor(self._out)[0].astype(np.float64)

    def classify(self, crops: Sequence[np.ndarray]) -> dict[str, float]:
        """Mean distribution over ``crops`` (64x64 uint8 grey) and their mirror images."""
        total = np.zeros(len(MODEL_LABELS))
        with self._lock:
            for crop in crops:
                total += self._softmax(crop) + self._softmax(np.ascontiguousarray(crop[:, ::-1]))
        total /= total.sum()
        by_name = dict(zip(MODEL_LABELS, total.tolist(), strict=True))
        return {e: by_name[e] for e in BASIC_EMOTIONS}

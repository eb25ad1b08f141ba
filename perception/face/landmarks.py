"""The 478-point MediaPipe face mesh: named landmark indices and a mesher that runs on a face's neighbourhood.

The mesh runs on a square crop around the chosen face rather than the whole frame, so the face it tracks is the
one the tracker picked, and the cost does not grow with the frame size.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from empathic.perception._optional import require
from empathic.perception.face.detection import FaceBox

# Indices into the 478-point mesh (subject's right is image left).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_INNER, LEFT_EYE_OUTER = 33, 133, 362, 263
RIGHT_UPPER_LID, RIGHT_LOWER_LID, LEFT_UPPER_LID, LEFT_LOWER_LID = 159, 145, 386, 374
RIGHT_BROW_MID, LEFT_BROW_MID, RIGHT_BROW_INNER, LEFT_BROW_INNER = 105, 334, 107, 336
RIGHT_ALA, LEFT_ALA, SUBNASALE, NOSE_TIP = 129, 358, 2, 1
UPPER_LIP_TOP, UPPER_LIP_INNER, LOWER_LIP_INNER, LOWER_LIP_BOTTOM = 0, 13, 14, 17
RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER = 61, 291
FOREHEAD, CHIN, RIGHT_CHEEK, LEFT_CHEEK = 10, 152, 234, 454
RIGHT_IRIS, LEFT_IRIS = 468, 473

_MESH_INPUT = 256  # side of the square the crop is scaled to before meshing
_CROP_SCALE = 1.8  # crop side relative to the detector's box


@dataclass(frozen=True, slots=True, eq=False)
class Landmarks:
    """Mesh points in frame pixels: (478, 3) float32, x right, y down, z depth in the same pixel scale."""

    points: np.ndarray

    def xy(self, index: int) -> np.ndarray:
        return self.points[index, :2]

    @property
    def eye_distance(self) -> float:
        """Distance between the eye centres, the unit every geometric measure is divided by."""
        right = self.points[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER], :2].mean(axis=0)
        left = self.points[[LEFT_EYE_INNER, LEFT_EYE_OUTER], :2].mean(axis=0)
        return float(np.linalg.norm(left - right))

    def box(self) -> FaceBox:
        """The box around the mesh, as a detection of the same face."""
        (x0, y0), (x1, y1) = self.points[:, :2].min(axis=0), self.points[:, :2].max(axis=0)
        return FaceBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0), 1.0)


def square_around(box: tuple[float, float, float, float], scale: float) -> np.ndarray:
    """2x3 affine that maps a square of ``scale`` times the box, centred on it, onto the mesher's input."""
    x, y, w, h = box
    side = max(w, h) * scale
    k = _MESH_INPUT / max(side, 1.0)
    cx, cy = x + w / 2, y + h / 2
    return np.array([[k, 0.0, _MESH_INPUT / 2 - k * cx], [0.0, k, _MESH_INPUT / 2 - k * cy]], dtype=np.float64)


_RECORD = 17  # a serialised landmark holding exactly x, y, z: 2 header bytes + 3 x (tag + float32)
_TAGS = {0: 0x0A, 1: 0x0F, 2: 0x0D, 7: 0x15, 12: 0x1D}


def _xyz(landmark_list: Any) -> np.ndarray:
    """(n, 3) float32 normalised coordinates; reads the serialised protobuf as an array, which is ~20x faster
    than touching 1,434 message fields from Python, and falls back to that when the layout differs."""
    raw = landmark_list.SerializeToString()
    n = len(landmark_list.landmark)
    if len(raw) == n * _RECORD:
        rec = np.frombuffer(raw, np.uint8).reshape(n, _RECORD)
        if all((rec[:, col] == tag).all() for col, tag in _TAGS.items()):
            return np.ndarray((n, 3), dtype="<f4", buffer=raw, offset=3, strides=(_RECORD, 5)).astype(np.float32)
    return np.array([(p.x, p.y, p.z) for p in landmark_list.landmark], np.float32)


class FaceMesher:
    """MediaPipe Face Mesh with iris refinement (478 points), loaded on first use.

    ``static`` turns off tracking between calls: right for unrelated images (evaluation), and for a mesher that
    many sessions share (the face perceiver crops around its own tracked face first, so it needs no tracking from
    the graph). A lock serialises calls: a MediaPipe graph is not thread-safe.
    """

    def __init__(self, static: bool = False) -> None:
        self.static = static
        self._mesh: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        if self._mesh is None:
            mp = require("mediapipe", "face", "the face mesh")
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=self.static,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=0.3,
                min_tracking_confidence=0.5,
            )
        return self._mesh

    def mesh(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> Landmarks | None:
        """Landmarks of the face in ``box`` (x, y, w, h pixels) of an RGB frame, or None when none is found."""
        affine = square_around(box, _CROP_SCALE)
        crop = cv2.warpAffine(rgb, affine, (_MESH_INPUT, _MESH_INPUT), flags=cv2.INTER_LINEAR)
        return self.mesh_image(crop, np.vstack([affine, (0.0, 0.0, 1.0)]))

    def mesh_image(self, rgb: np.ndarray, to_crop: np.ndarray | None = None) -> Landmarks | None:
        """Landmarks of the face in a whole RGB image; ``to_crop`` maps original pixels to ``rgb`` (3x3)."""
        with self._lock:
            result = self._model().process(rgb)
        if not result.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        pts = _xyz(result.multi_face_landmarks[0]) * np.array([w, h, w], np.float32)
        if to_crop is not None:
            inv = np.linalg.inv(to_crop)
            pts[:, :2] = pts[:, :2] @ inv[:2, :2].T + inv[:2, 2]
            pts[:, 2] *= inv[0, 0]
        return Landmarks(pts)

    def close(self) -> None:
        with self._lock:
            if self._mesh is not None:
                self._mesh.close()
                self._mesh = None

"""Head pose from the mesh's 3D points, and a gaze-aversion proxy from head turn plus iris position.

The head frame is built from the eye line and the forehead-chin line, so it needs no camera calibration; the
same frame normalises action-unit geometry, which keeps a turned head from reading as a changed expression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from empathic.perception.face.landmarks import (
    CHIN,
    FOREHEAD,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    LEFT_IRIS,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    RIGHT_IRIS,
    Landmarks,
)

_PITCH_OFFSET_DEG = 9.0  # a level, frontal head reads about -9 degrees: the hairline sits behind the chin
_AVERT_YAW_DEG = (12.0, 35.0)  # head turn that starts / saturates gaze aversion
_AVERT_PITCH_DEG = (12.0, 30.0)
_AVERT_IRIS = (0.12, 0.3)  # iris offset from the eye's middle, as a fraction of the eye's width


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Degrees: yaw > 0 turned to the image right, pitch > 0 looking up, roll > 0 tilted clockwise."""

    yaw: float
    pitch: float
    roll: float


def head_frame(lm: Landmarks) -> tuple[np.ndarray, np.ndarray]:
    """Origin (between the eyes) and rotation whose rows are the head's x (eye line), y (down) and z axes."""
    p = lm.points.astype(np.float64)
    right = p[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER]].mean(axis=0)
    left = p[[LEFT_EYE_INNER, LEFT_EYE_OUTER]].mean(axis=0)
    x = left - right
    x /= np.linalg.norm(x) or 1.0
    down = p[CHIN] - p[FOREHEAD]
    z = np.cross(x, down)
    z /= np.linalg.norm(z) or 1.0
    y = np.cross(z, x)
    return (left + right) / 2, np.stack([x, y, z])


def head_pose(lm: Landmarks) -> HeadPose:
    _, rot = head_frame(lm)
    x, _, z = rot
    return HeadPose(
        yaw=math.degrees(math.asin(float(np.clip(-z[0], -1, 1)))),
        pitch=math.degrees(math.asin(float(np.clip(z[1], -1, 1)))) + _PITCH_OFFSET_DEG,
        roll=math.degrees(math.atan2(x[1], x[0])),
    )


def iris_offset(lm: Landmarks) -> float:
    """Mean horizontal iris offset from the middle of each eye, as a fraction of the eye's width (0: centred)."""
    p = lm.points[:, :2]
    offsets = []
    for iris, a, b in ((RIGHT_IRIS, RIGHT_EYE_OUTER, RIGHT_EYE_INNER), (LEFT_IRIS, LEFT_EYE_INNER, LEFT_EYE_OUTER)):
        axis = p[b] - p[a]
        length = float(np.dot(axis, axis)) or 1.0
        offsets.append(float(np.dot(p[iris] - p[a], axis)) / length - 0.5)
    return float(np.mean(offsets))


def _ramp(x: float, lo_hi: tuple[float, float]) -> float:
    lo, hi = lo_hi
    return min(1.0, max(0.0, (abs(x) - lo) / (hi - lo)))


def gaze_aversion(pose: HeadPose, iris: float, reference: HeadPose | None = None) -> float:
    """0 when looking at the camera, 1 when clearly looking away; ``reference`` is the person's usual pose."""
    ref = reference or HeadPose(0.0, 0.0, 0.0)
    return max(
        _ramp(pose.yaw - ref.yaw, _AVERT_YAW_DEG),
        _ramp(pose.pitch - ref.pitch, _AVERT_PITCH_DEG),
        _ramp(iris, _AVERT_IRIS),
    )

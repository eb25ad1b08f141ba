"""Body language from MediaPipe Pose (model complexity 1, the one bundled), at a lower rate than the face.

Lean is the shoulder width against the person's own (closer to the camera looks wider); a shoulder raise is the
ear-to-shoulder height shrinking; hand-to-face is a wrist near the face (below the chin: head in hand); fidget
energy is how fast hands and shoulders move, in shoulder widths per second, smoothed over about a second.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

import cv2
import numpy as np
from empathic.perception._optional import require
from empathic.perception.estimates import Cue, ModalityEstimate
from empathic.perception.observations import Observation, VideoFrame
from empathic.perception.perceiver import BlockingPerceiver, PerceiverCapabilities

NOSE, LEFT_EAR, RIGHT_EAR, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 7, 8, 11, 12
LEFT_WRIST, RIGHT_WRIST, MOUTH_LEFT, MOUTH_RIGHT = 15, 16, 9, 10
MIN_VISIBILITY = 0.5
BASELINE_SAMPLES = 10
CUE_THRESHOLD = 0.3


class PoseEstimator:
    """MediaPipe Pose in static-image mode, loaded on first use: it keeps nothing between frames, so sessions share
    one (:func:`shared_pose`), and a lock serialises calls (a MediaPipe graph is not thread-safe)."""

    def __init__(self) -> None:
        self._pose: Any = None
        self._lock = threading.Lock()

    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        """(33, 3) rows of x, y in pixels and visibility, or None when no person is found."""
        with self._lock:
            if self._pose is None:
                mp = require("mediapipe", "face", "body pose")
                self._pose = mp.solutions.pose.Pose(
                    static_image_mode=True, model_complexity=1, min_detection_confidence=0.5
                )
            result = self._pose.process(rgb)
        if result.pose_landmarks is None:
            return None
        h, w = rgb.shape[:2]
        return np.array([(p.x * w, p.y * h, p.visibility) for p in result.pose_landmarks.landmark], np.float64)

    def close(self) -> None:
        with self._lock:
            if self._pose is not None:
                self._pose.close()
                self._pose = None


@functools.cache
def shared_pose() -> PoseEstimator:
    """The process's pose model, shared by every body perceiver built without one."""
    return PoseEstimator()


def _ramp(x: float, lo: float, hi: float) -> float:
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


class BodyPerceiver(BlockingPerceiver):
    """Posture and movement cues; it says nothing about basic emotions, only about complex states and arousal.

    The pose model is shared (``pose`` defaults to :func:`shared_pose`); a perceiver holds only its person's
    usual posture and recent movement.
    """

    name = "body-pose"

    def __init__(self, max_rate_hz: float = 5.0, pose: PoseEstimator | None = None) -> None:
        self.capabilities = PerceiverCapabilities("body", (VideoFrame,), max_rate_hz=max_rate_hz)
        self.pose = pose or shared_pose()
        self.reset()

    def reset(self) -> None:
        """Forget the person's usual posture."""
        self._widths: list[float] = []
        self._necks: list[float] = []
        self._prev: tuple[float, np.ndarray] | None = None
        self._energy = 0.0

    def predict(self, obs: Observation) -> ModalityEstimate | None:
        if not isinstance(obs, VideoFrame):
            return None
        img = obs.image
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else np.ascontiguousarray(img)
        pts = self.pose.landmarks(rgb)
        if pts is None:
            self._prev = None
            return ModalityEstimate.unknown("body", obs.t, "no person in view", self.name)
        if min(pts[LEFT_SHOULDER, 2], pts[RIGHT_SHOULDER, 2]) < MIN_VISIBILITY:
            self._prev = None
            return ModalityEstimate.unknown("body", obs.t, "shoulders not visible", self.name)
        return self.read(obs.t, pts)

    def read(self, t: float, pts: np.ndarray) -> ModalityEstimate:
        """Cues from pose landmarks: (33, 3) rows of x, y in pixels and visibility."""
        xy = pts[:, :2]
        width = float(np.linalg.norm(xy[LEFT_SHOULDER] - xy[RIGHT_SHOULDER])) or 1.0
        shoulder_y = (xy[LEFT_SHOULDER, 1] + xy[RIGHT_SHOULDER, 1]) / 2
        neck = (shoulder_y - (xy[LEFT_EAR, 1] + xy[RIGHT_EAR, 1]) / 2) / width
        if len(self._widths) < BASELINE_SAMPLES:
            self._widths.append(width)
            self._necks.append(neck)
        usual_width, usual_neck = float(np.median(self._widths)), float(np.median(self._necks))
        lean = width / usual_width - 1.0
        moving = xy[[LEFT_WRIST, RIGHT_WRIST, LEFT_SHOULDER, RIGHT_SHOULDER]] / width
        if self._prev is not None and t > self._prev[0]:
            dt = t - self._prev[0]
            speed = float(np.linalg.norm(moving - self._prev[1], axis=1).mean()) / dt
            alpha = 1.0 - math.exp(-dt / 1.0)
            self._energy += alpha * (speed - self._energy)
        self._prev = (t, moving)
        face = (xy[MOUTH_LEFT] + xy[MOUTH_RIGHT]) / 2
        hand = 0.0
        in_hand = 0.0
        for wrist in (LEFT_WRIST, RIGHT_WRIST):
            if pts[wrist, 2] >= MIN_VISIBILITY:
                near = 1.0 - _ramp(float(np.linalg.norm(xy[wrist] - face)) / width, 0.35, 0.7)
                hand = max(hand, near)
                if xy[wrist, 1] > face[1]:  # below the mouth: propping the head
                    in_hand = max(in_hand, near)
        values = {
            "lean_toward": _ramp(lean, 0.05, 0.2),
            "lean_away": _ramp(-lean, 0.05, 0.2),
            "shoulder_raise": _ramp(usual_neck - neck, 0.04, 0.15),
            "hand_to_face": hand,
            "head_in_hand": in_hand,
            "fidget": _ramp(self._energy, 0.3, 1.5),
        }
        return self._estimate(t, values, float(pts[[LEFT_SHOULDER, RIGHT_SHOULDER], 2].mean()))

    def _estimate(self, t: float, v: dict[str, float], visibility: float) -> ModalityEstimate:
        supports = {
            "lean_toward": ("interest",),
            "lean_away": ("boredom", "skepticism"),
            "shoulder_raise": ("confusion", "fear"),
            "hand_to_face": ("contemplation",),
            "head_in_hand": ("boredom", "sad"),
            "fidget": ("frustration", "boredom"),
        }
        cues = tuple(Cue(k, round(x, 3), "body", supports=supports[k]) for k, x in v.items() if x >= CUE_THRESHOLD)
        complex_states = {
            "interest": v["lean_toward"],
            "boredom": max(v["lean_away"] * 0.6, v["head_in_hand"] * 0.7),
            "contemplation": v["hand_to_face"] * 0.6,
            "confusion": v["shoulder_raise"] * 0.5,
            "frustration": v["fidget"] * 0.5,
            "skepticism": v["lean_away"] * 0.4,
        }
        arousal = 0.8 * v["fidget"] + 0.3 * v["lean_toward"] - 0.3 * v["head_in_hand"] - 0.2
        return ModalityEstimate(
            modality="body",
            t=t,
            probs={},
            valence=0.0,
            arousal=max(-1.0, min(1.0, arousal)),
            confidence=min(0.6, 0.6 * visibility),
            cues=cues,
            complex_states=complex_states,
            source=self.name,
        )

    def close(self) -> None:
        """Forget the person; the shared pose model stays loaded for others."""
        self.reset()

"""Per-person neutral baseline: the median of each geometric measure over a calibration window.

Calibration starts by itself on the first frames with a face and can be restarted (``reset``) or requested
explicitly (``calibrate``, e.g. after asking the user to look at the camera). The median ignores brief
expressions inside the window. Until a window completes, action units are read against population defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from empathic.perception.face.action_units import MEASURES, NEUTRAL
from empathic.perception.face.head_pose import HeadPose

MIN_SAMPLES = 5


class NeutralBaseline:
    """Collects measures for ``duration_s`` media seconds from the first face, then freezes their median."""

    def __init__(self, duration_s: float = 3.0) -> None:
        self.duration_s = duration_s
        self.reset()

    def reset(self) -> None:
        """Forget the person: population defaults again, and a fresh automatic calibration from the next face."""
        self._start: float | None = None
        self._window = self.duration_s
        self._samples: list[list[float]] = []
        self._poses: list[tuple[float, float, float]] = []
        self._neutral: dict[str, float] | None = None
        self._pose: HeadPose | None = None

    def calibrate(self, duration_s: float | None = None) -> None:
        """Start an explicit calibration on the next face, over ``duration_s`` (default: the automatic length)."""
        self.reset()
        self._window = self.duration_s if duration_s is None else duration_s

    @property
    def calibrated(self) -> bool:
        return self._neutral is not None

    @property
    def neutral(self) -> Mapping[str, float]:
        """The person's measures at rest, or the population defaults before calibration completes."""
        return self._neutral or NEUTRAL

    @property
    def pose(self) -> HeadPose | None:
        """The person's usual head pose (the camera may sit off to one side), once calibrated."""
        return self._pose

    def add(self, t: float, measures: Mapping[str, float], pose: HeadPose) -> None:
        """Offer one frame's measures; ignored once calibrated."""
        if self._neutral is not None:
            return
        if self._start is None:
            self._start = t
        self._samples.append([measures[m] for m in MEASURES])
        self._poses.append((pose.yaw, pose.pitch, pose.roll))
        if t - self._start >= self._window and len(self._samples) >= MIN_SAMPLES:
            med = np.median(np.asarray(self._samples), axis=0)
            self._neutral = dict(zip(MEASURES, med.tolist(), strict=True))
            self._pose = HeadPose(*np.median(np.asarray(self._poses), axis=0).tolist())
            self._samples.clear()
            self._poses.clear()

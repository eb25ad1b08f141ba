"""Action units from mesh geometry, measured in the head's own frame in units of the eye distance.

Each unit is a departure of one distance from its neutral value, divided by the change that counts as full
intensity. The neutral values start as population defaults and are replaced by the person's own baseline once
it is calibrated (see :mod:`perception.face.baseline`), since faces differ more at rest than between expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from empathic.perception.face.head_pose import head_frame
from empathic.perception.face.landmarks import (
    CHIN,
    LEFT_ALA,
    LEFT_BROW_INNER,
    LEFT_BROW_MID,
    LEFT_LOWER_LID,
    LEFT_MOUTH_CORNER,
    LEFT_UPPER_LID,
    LOWER_LIP_BOTTOM,
    LOWER_LIP_INNER,
    RIGHT_ALA,
    RIGHT_BROW_INNER,
    RIGHT_BROW_MID,
    RIGHT_LOWER_LID,
    RIGHT_MOUTH_CORNER,
    RIGHT_UPPER_LID,
    SUBNASALE,
    UPPER_LIP_INNER,
    UPPER_LIP_TOP,
    Landmarks,
)


@dataclass(frozen=True, slots=True)
class ActionUnit:
    """A FACS action unit read from one geometric measure: intensity = sign x (measure - neutral) / full."""

    code: str
    name: str
    measure: str
    sign: float
    full: float


ACTION_UNITS: tuple[ActionUnit, ...] = (
    ActionUnit("AU1+2", "brow_raiser", "brow_height", +1, 0.10),
    ActionUnit("AU4", "brow_lowerer", "brow_height", -1, 0.08),
    ActionUnit("AU7", "lid_tightener", "eye_opening", -1, 0.06),
    ActionUnit("AU9", "nose_wrinkler", "ala_height", -1, 0.05),
    ActionUnit("AU10", "upper_lip_raiser", "upper_lip", -1, 0.05),
    ActionUnit("AU12", "lip_corner_puller", "corner_lift", +1, 0.08),
    ActionUnit("AU15", "lip_corner_depressor", "corner_lift", -1, 0.05),
    ActionUnit("AU24", "lip_press", "lip_thickness", -1, 0.07),
    ActionUnit("AU25", "lips_part", "lip_gap", +1, 0.15),
    ActionUnit("AU26", "jaw_drop", "jaw_length", +1, 0.15),
    ActionUnit("AU14U", "unilateral_lip_corner", "corner_asymmetry", +1, 0.06),
)
AU_CODES: tuple[str, ...] = tuple(au.code for au in ACTION_UNITS)

# Population defaults for a face at rest (eye-distance units, head frame), rounded medians of neutral faces seen
# in development; each person's baseline replaces them.
NEUTRAL: Mapping[str, float] = {
    "brow_height": 0.35,
    "brow_gap": 0.48,
    "eye_opening": 0.14,
    "ala_height": 0.60,
    "upper_lip": 0.245,
    "corner_lift": 0.0,
    "mouth_width": 0.73,
    "lip_thickness": 0.23,
    "lip_gap": 0.01,
    "jaw_length": 0.96,
    "corner_asymmetry": 0.018,
}
MEASURES: tuple[str, ...] = tuple(NEUTRAL)


def measure(lm: Landmarks) -> dict[str, float]:
    """Raw geometric measures of one face (the inputs to :func:`intensities` and to the baseline)."""
    origin, rot = head_frame(lm)
    p = lm.points.astype(np.float64)
    right_eye, left_eye = p[[33, 133]].mean(axis=0), p[[362, 263]].mean(axis=0)
    unit = float(np.linalg.norm(left_eye - right_eye)) or 1.0
    q = (p - origin) @ rot.T / unit  # x along the eye line, y down the face

    def y(i: int) -> float:
        return float(q[i, 1])

    mouth_mid = (y(UPPER_LIP_INNER) + y(LOWER_LIP_INNER)) / 2
    right_lift, left_lift = mouth_mid - y(RIGHT_MOUTH_CORNER), mouth_mid - y(LEFT_MOUTH_CORNER)
    return {
        "brow_height": -(y(RIGHT_BROW_MID) + y(LEFT_BROW_MID) + y(RIGHT_BROW_INNER) + y(LEFT_BROW_INNER)) / 4,
        "brow_gap": float(q[LEFT_BROW_INNER, 0] - q[RIGHT_BROW_INNER, 0]),
        "eye_opening": (y(RIGHT_LOWER_LID) - y(RIGHT_UPPER_LID) + y(LEFT_LOWER_LID) - y(LEFT_UPPER_LID)) / 2,
        "ala_height": (y(RIGHT_ALA) + y(LEFT_ALA)) / 2,
        "upper_lip": y(UPPER_LIP_TOP) - y(SUBNASALE),
        "corner_lift": (right_lift + left_lift) / 2,
        "mouth_width": float(q[LEFT_MOUTH_CORNER, 0] - q[RIGHT_MOUTH_CORNER, 0]),
        "lip_thickness": y(UPPER_LIP_INNER) - y(UPPER_LIP_TOP) + y(LOWER_LIP_BOTTOM) - y(LOWER_LIP_INNER),
        "lip_gap": max(0.0, y(LOWER_LIP_INNER) - y(UPPER_LIP_INNER)),
        "jaw_length": y(CHIN) - y(SUBNASALE),
        "corner_asymmetry": abs(right_lift - left_lift),
    }


def intensities(measures: Mapping[str, float], neutral: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each action unit's intensity in [0, 1] relative to ``neutral`` (population defaults when None)."""
    ref = neutral or NEUTRAL
    out: dict[str, float] = {}
    for au in ACTION_UNITS:
        delta = au.sign * (measures[au.measure] - ref[au.measure])
        if au.code == "AU12":  # a smile widens the mouth as well as lifting its corners
            delta += 0.3 * (measures["mouth_width"] - ref["mouth_width"])
        if au.code == "AU4":  # knitted brows come together as well as down
            delta += 0.5 * (ref["brow_gap"] - measures["brow_gap"])
        out[au.code] = min(1.0, max(0.0, delta / au.full))
    return out

"""Is a face image good enough to read? Too dark, washed out or blurred images give a reason instead of a guess."""

from __future__ import annotations

import cv2
import numpy as np

MIN_BRIGHTNESS = 35.0  # mean grey level of the face
MAX_BRIGHTNESS = 235.0
MIN_CONTRAST = 12.0  # grey-level standard deviation
MIN_SHARPNESS = 20.0  # variance of the Laplacian on a 64x64 face, which is scale-free
MIN_REGION_CONTRAST = 6.0  # a flat eye or mouth band means something covers it
# Rows of the aligned 64x64 crop (eyes at 40% of its height) that hold the eyes and the mouth.
REGIONS = {"eyes": (18, 32), "mouth": (42, 58)}


def frame_problem(grey: np.ndarray) -> str | None:
    """Why a whole frame cannot show a face (too dark, blank), or None; reads every 8th pixel, which is plenty."""
    grey = grey[::8, ::8]
    mean = float(grey.mean())
    if mean < MIN_BRIGHTNESS * 0.6:
        return f"too dark (mean brightness {mean:.0f}/255)"
    if float(grey.std()) < MIN_CONTRAST * 0.5:
        return "blank image (no contrast)"
    return None


def face_problem(face64: np.ndarray) -> str | None:
    """Why a 64x64 face crop cannot be read (dark, washed out, flat, blurred), or None."""
    mean, std = float(face64.mean()), float(face64.std())
    if mean < MIN_BRIGHTNESS:
        return f"face too dark (mean brightness {mean:.0f}/255)"
    if mean > MAX_BRIGHTNESS:
        return f"face washed out (mean brightness {mean:.0f}/255)"
    if std < MIN_CONTRAST:
        return "face has no contrast"
    sharpness = float(cv2.Laplacian(face64, cv2.CV_64F).var())
    if sharpness < MIN_SHARPNESS:
        return f"face blurred (sharpness {sharpness:.0f})"
    for region, (top, bottom) in REGIONS.items():
        if float(face64[top:bottom, 16:48].std()) < MIN_REGION_CONTRAST:
            return f"face partly hidden ({region} covered)"
    return None

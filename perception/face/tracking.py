"""Which face is the user: the largest, most central face, kept while it stays put so a passer-by cannot steal it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from empathic.perception.face.detection import FaceBox

_STICKINESS = 1.5  # score multiplier for the face that overlaps the previous primary
_MIN_OVERLAP = 0.3


@dataclass(frozen=True, slots=True)
class Tracked:
    """The chosen face, how many other faces are in view, and whether the user changed to another visible face."""

    primary: FaceBox
    others: int
    switched: bool


class PrimaryFaceTracker:
    """Scores faces by area x centrality, with a bonus for the face that continues the previous primary."""

    def __init__(self) -> None:
        self._last: FaceBox | None = None

    def reset(self) -> None:
        self._last = None

    def follow(self, face: FaceBox) -> None:
        """Take ``face`` as the primary's new position (found by following it rather than by detection)."""
        self._last = face

    def choose(self, faces: Sequence[FaceBox], size: tuple[int, int]) -> Tracked | None:
        if not faces:
            self._last = None
            return None
        width, height = size
        diag = (width**2 + height**2) ** 0.5

        def score(face: FaceBox) -> float:
            cx, cy = face.center
            off_centre = ((cx - width / 2) ** 2 + (cy - height / 2) ** 2) ** 0.5 / diag
            s = face.area * (1.0 - off_centre)
            if self._last is not None and face.iou(self._last) >= _MIN_OVERLAP:
                s *= _STICKINESS
            return s

        best = max(faces, key=score)
        switched = self._last is not None and best.iou(self._last) < _MIN_OVERLAP
        self._last = best
        return Tracked(best, len(faces) - 1, switched)

"""Action units, micro-expressions, tracking and fusion on landmarks and series made here."""

from __future__ import annotations

import numpy as np
import pytest

skdata = pytest.importorskip("skimage.data")

from empathic.perception.face.action_units import intensities, measure  # noqa: E402
from empathic.perception.face.detection import FaceBox  # noqa: E402
from empathic.perception.face.evidence import fuse  # noqa: E402
from empathic.perception.face.landmarks import (  # noqa: E402
    LEFT_BROW_INNER,
    LEFT_BROW_MID,
    LEFT_MOUTH_CORNER,
    RIGHT_BROW_INNER,
    RIGHT_BROW_MID,
    RIGHT_MOUTH_CORNER,
    FaceMesher,
    Landmarks,
)
from empathic.perception.face.micro import MicroExpressionDetector  # noqa: E402
from empathic.perception.face.tracking import PrimaryFaceTracker  # noqa: E402


@pytest.fixture(scope="module")
def face() -> Landmarks:
    return FaceMesher(static=True).mesh_image(skdata.astronaut())


def _moved(lm: Landmarks, indices: list[int], dy_eyes: float) -> Landmarks:
    pts = lm.points.copy()
    pts[indices, 1] += dy_eyes * lm.eye_distance
    return Landmarks(pts)


def test_action_units_move_with_the_landmarks(face):
    rest = measure(face)
    assert max(intensities(rest, rest).values()) == 0.0
    brows = [RIGHT_BROW_MID, LEFT_BROW_MID, RIGHT_BROW_INNER, LEFT_BROW_INNER]
    raised = intensities(measure(_moved(face, brows, -0.1)), rest)
    lowered = intensities(measure(_moved(face, brows, +0.1)), rest)
    assert raised["AU1+2"] > 0.8 and raised["AU4"] == 0.0
    assert lowered["AU4"] > 0.8 and lowered["AU1+2"] == 0.0
    corners = [RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER]
    assert intensities(measure(_moved(face, corners, -0.06)), rest)["AU12"] > 0.5
    assert intensities(measure(_moved(face, corners, +0.06)), rest)["AU15"] > 0.8
    one_sided = intensities(measure(_moved(face, [LEFT_MOUTH_CORNER], -0.06)), rest)
    assert one_sided["AU14U"] > 0.5


def test_action_units_ignore_scale_and_position(face):
    rest = measure(face)
    pts = face.points.copy() * 0.5 + np.array([40.0, -10.0, 0.0], np.float32)
    assert max(intensities(measure(Landmarks(pts)), rest).values()) < 0.05


def test_disgust_geometry_moves_anger_to_disgust():
    probs = {"neutral": 0.05, "happy": 0.0, "sad": 0.05, "angry": 0.6, "fear": 0.0, "disgust": 0.3, "surprise": 0.0}
    fused = fuse(probs, {"AU9": 0.9, "AU10": 0.8, "AU24": 0.0})
    assert max(fused, key=fused.get) == "disgust"
    assert sum(fused.values()) == pytest.approx(1.0)
    assert fuse(probs, {"AU9": 0.9}, weight=0.0) == probs
    assert max(fuse(probs, {"AU24": 1.0}).items(), key=lambda kv: kv[1])[0] == "angry"


def _series(detector: MicroExpressionDetector, spikes: dict[tuple[float, float], float], seconds: float = 3.0):
    episodes = []
    for i in range(int(seconds * 30)):
        t = i / 30
        level = next((v for (a, b), v in spikes.items() if a <= t < b), 0.0)
        episodes += detector.update(t, {"AU4": 0.05, "AU12": level})
    return episodes


def test_brief_departure_is_a_micro_expression():
    episodes = _series(MicroExpressionDetector(), {(1.0, 1.2): 0.8})
    assert len(episodes) == 1
    ep = episodes[0]
    assert ep.kind == "micro_expression" and ep.labels == ("AU12",)
    assert ep.onset == pytest.approx(1.0, abs=0.04) and ep.onset <= ep.apex < ep.offset
    assert ep.duration < 0.5 and ep.intensity > 0.5


def test_held_expression_is_not_a_micro_expression():
    assert _series(MicroExpressionDetector(), {(1.0, 2.2): 0.8}) == []


def test_lost_face_drops_a_half_seen_departure():
    d = MicroExpressionDetector()
    for i in range(10):
        d.update(i / 30, {"AU12": 0.0})
    d.update(10 / 30, {"AU12": 0.9})
    assert d.update(2.0, {"AU12": 0.0}) == ()  # a gap: the face was lost meanwhile


def test_tracker_keeps_the_user_when_a_bigger_face_passes_briefly():
    tracker = PrimaryFaceTracker()
    user = FaceBox(270, 190, 100, 100, 0.9)
    first = tracker.choose([user], (640, 480))
    assert first.primary == user and first.others == 0 and not first.switched
    passer = FaceBox(20, 20, 130, 130, 0.9)
    kept = tracker.choose([passer, user], (640, 480))
    assert kept.primary == user and kept.others == 1
    big = FaceBox(240, 160, 220, 220, 0.9)
    taken = tracker.choose([big, FaceBox(20, 300, 90, 90, 0.9)], (640, 480))
    assert taken.primary == big and taken.switched
    assert tracker.choose([], (640, 480)) is None


def _noisy(detector: MicroExpressionDetector, spikes: dict[tuple[float, float], float], noise: float = 0.06):
    """Ten seconds at 15 fps of jittery action units (as a still face gives them), with optional real movements."""
    rng, episodes = np.random.default_rng(1), []
    for i in range(150):
        t = i / 15
        jitter = {code: float(np.clip(0.1 + rng.normal(0, noise), 0, 1)) for code in ("AU4", "AU12", "AU14U")}
        jitter["AU4"] += next((v for (a, b), v in spikes.items() if a <= t < b), 0.0)
        episodes += detector.update(t, jitter)
    return episodes


def test_jitter_and_one_frame_spikes_are_no_micro_expressions():
    assert _noisy(MicroExpressionDetector(), {}) == []
    assert _noisy(MicroExpressionDetector(), {(3.0, 3.05): 0.7, (6.0, 6.05): 0.8}) == []  # one frame each


def test_a_brief_brow_lowering_over_jitter_is_a_micro_expression():
    episodes = _noisy(MicroExpressionDetector(), {(5.0, 5.25): 0.6})
    assert [e.labels for e in episodes] == [("AU4",)]
    assert episodes[0].onset == pytest.approx(5.0, abs=0.07) and episodes[0].duration < 0.5

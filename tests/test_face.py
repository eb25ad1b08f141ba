"""The face perceiver on a real photo (scikit-image's astronaut, public domain) and on frames made to fail."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

skdata = pytest.importorskip("skimage.data")

from empathic.perception import ObservationError, VideoFrame  # noqa: E402
from empathic.perception.face import FacePerceiver  # noqa: E402
from empathic.perception.face.expression import aligned_crop  # noqa: E402
from empathic.perception.face.head_pose import head_pose  # noqa: E402
from empathic.perception.face.landmarks import FaceMesher  # noqa: E402
from empathic.perception.face.perceiver import FaceModels, shared_face_models  # noqa: E402
from empathic.perception.face.quality import face_problem  # noqa: E402


def _frame() -> np.ndarray:
    frame = np.full((480, 640, 3), 96, np.uint8)
    frame[:, 80:560] = cv2.resize(skdata.astronaut(), (480, 480))
    return frame


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return _frame()


@pytest.fixture(scope="module")
def perceiver():
    p = FacePerceiver()
    yield p
    p.close()


def test_models_load_on_first_frame_only():
    p = FacePerceiver(models=FaceModels.load())
    assert p.classifier._interp is None and p.detector._detector is None and p.mesher._mesh is None


def test_sessions_share_the_models_but_not_the_person(frame):
    first, second = FacePerceiver(), FacePerceiver(baseline_s=0.2)
    assert first.models is second.models is shared_face_models() and first.mesher.static
    for i in range(6):
        second.predict(VideoFrame(i / 10, frame))
    assert second.baseline.calibrated and second.last is not None
    assert not first.baseline.calibrated and first.last is None  # one person's state never reaches another session
    est = first.predict(VideoFrame(0.0, frame))
    assert est.confidence > 0.5 and not first.baseline.calibrated
    second.close()  # a deleted session drops its person, and the models stay loaded for the others
    assert second.last is None and not second.baseline.calibrated
    assert first.predict(VideoFrame(0.1, frame)).confidence > 0.5


def test_reads_a_smiling_face(perceiver, frame):
    est = perceiver.predict(VideoFrame(0.0, frame))
    assert est.modality == "face" and est.confidence > 0.5
    assert max(est.probs, key=est.probs.get) == "happy"
    assert est.valence > 0.3
    assert perceiver.last.landmarks.points.shape == (478, 3)
    assert perceiver.last.action_units["AU12"] > 0.5
    assert any(c.name == "lip_corner_puller" for c in est.cues)


def test_grey_frames_work(perceiver, frame):
    est = perceiver.predict(VideoFrame(0.1, cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)))
    assert est.confidence > 0.5


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda f: np.zeros_like(f), "dark"),
        (lambda f: (f * 0.08).astype(np.uint8), "dark"),
        (lambda f: np.full_like(f, 128), "no contrast"),
        (lambda f: cv2.GaussianBlur(f, (0, 0), 8), ""),
        (lambda f: np.ascontiguousarray(skdata.coffee()[:480, :640]), ""),
    ],
    ids=["black", "dim", "blank", "blurred", "no-face"],
)
def test_unreadable_frames_give_a_reason_not_an_exception(frame, make, reason):
    est = FacePerceiver().predict(VideoFrame(1.0, make(frame)))
    assert est.confidence == 0.0 and est.probs == {}
    assert reason in est.reason and est.reason


def test_covered_face_gives_a_reason(frame):
    covered = frame.copy()
    covered[60:300, 160:400] = 128
    est = FacePerceiver().predict(VideoFrame(0.0, covered))
    assert est.confidence == 0.0 and est.reason


def test_covered_mouth_band_is_reported(frame):
    lm = FaceMesher(static=True).mesh_image(frame)
    crop = aligned_crop(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), lm)
    assert face_problem(crop) is None
    crop[42:58] = 90
    assert face_problem(crop) == "face partly hidden (mouth covered)"


@pytest.mark.parametrize(
    "image",
    [np.zeros((480, 640, 3), np.float32), np.zeros((480, 640, 4), np.uint8), np.zeros((0, 640), np.uint8)],
    ids=["float", "four-channels", "empty"],
)
def test_malformed_frames_raise_observation_error(image):
    with pytest.raises(ObservationError):
        VideoFrame(0.0, image)


def test_primary_is_the_larger_face_and_others_are_counted():
    face = skdata.astronaut()[20:280, 120:380]
    frame = np.full((480, 640, 3), 96, np.uint8)
    frame[40:340, 10:310] = cv2.resize(face, (300, 300))
    frame[100:340, 380:620] = cv2.resize(face, (240, 240))
    p = FacePerceiver()
    est = p.predict(VideoFrame(0.0, frame))
    assert est.confidence > 0
    assert p.last.others == 1
    assert p.last.landmarks.box().x < 320  # the larger face, on the left
    assert any(c.name == "others_in_view" and "1 other" in c.text for c in est.cues)


def test_head_pose_follows_the_image():
    img = skdata.astronaut()
    mesher = FaceMesher(static=True)
    upright = head_pose(mesher.mesh_image(img))
    tilted = head_pose(mesher.mesh_image(cv2.warpAffine(img, cv2.getRotationMatrix2D((256, 256), 20, 1.0), (512, 512))))
    mirrored = head_pose(mesher.mesh_image(np.ascontiguousarray(img[:, ::-1])))
    assert tilted.roll == pytest.approx(upright.roll - 20, abs=4)
    assert abs(upright.yaw) < 10 and abs(upright.pitch) < 15
    assert mirrored.roll == pytest.approx(-upright.roll, abs=3)


def test_baseline_calibrates_from_the_first_seconds(frame):
    p = FacePerceiver(baseline_s=0.4)
    for i in range(8):
        p.predict(VideoFrame(i / 10, frame))
    assert p.baseline.calibrated
    # against population defaults this smile is a full AU12; against its own baseline it is the face at rest
    assert p.last.action_units["AU12"] < 0.2 and max(p.last.action_units.values()) < 0.5
    p.reset_baseline()
    assert not p.baseline.calibrated
    p.calibrate(0.2)
    p.predict(VideoFrame(2.0, frame))
    assert not p.baseline.calibrated
    for i in range(1, 5):
        p.predict(VideoFrame(2.0 + i / 10, frame))
    assert p.baseline.calibrated


def _camera(t: float, rng: np.random.Generator, moving: bool) -> np.ndarray:
    """The astronaut as a webcam sees a photograph: sensor noise, and with ``moving`` a slow sway, tilt and zoom."""
    phase = 2 * np.pi * t
    angle, zoom = (4 * np.sin(phase / 8), 1 + 0.06 * np.sin(phase / 11)) if moving else (0.0, 1.0)
    shift = (60 * np.sin(phase / 10), 15 * np.sin(phase / 7)) if moving else (0.0, 0.0)
    warp = cv2.getRotationMatrix2D((200, 200), angle, zoom)
    warp[:, 2] += (120 + shift[0], 40 + shift[1])
    frame = cv2.warpAffine(cv2.resize(skdata.astronaut(), (400, 400)), warp, (640, 480), borderValue=(96, 96, 96))
    return np.clip(frame + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("moving", [False, True], ids=["still", "slowly-moving"])
def test_a_photograph_shows_no_micro_expressions(moving):
    p, rng = FacePerceiver(), np.random.default_rng(0)
    episodes, faces = [], 0
    for i in range(180):  # 12 s at 15 fps: landmark jitter alone used to make an "AU4" episode every few seconds
        est = p.predict(VideoFrame(i / 15, _camera(i / 15, rng, moving)))
        faces += est.confidence > 0
        episodes += est.episodes
    assert faces > 150 and episodes == []

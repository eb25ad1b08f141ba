"""Body cues from pose landmarks made here, and the perceiver on a real photo and on an empty frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from empathic.perception import VideoFrame
from empathic.perception.face.body import (
    LEFT_EAR,
    LEFT_SHOULDER,
    LEFT_WRIST,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    RIGHT_EAR,
    RIGHT_SHOULDER,
    RIGHT_WRIST,
    BodyPerceiver,
)


def _pose(shoulder_width: float = 200.0, neck: float = 120.0, wrist: tuple[float, float] = (320.0, 470.0)):
    pts = np.zeros((33, 3))
    pts[:, 2] = 0.9
    cx, sy = 320.0, 400.0
    pts[LEFT_SHOULDER, :2] = (cx + shoulder_width / 2, sy)
    pts[RIGHT_SHOULDER, :2] = (cx - shoulder_width / 2, sy)
    pts[[LEFT_EAR, RIGHT_EAR], 1] = sy - neck
    pts[[MOUTH_LEFT, MOUTH_RIGHT], :2] = (cx, sy - neck + 40)
    pts[[LEFT_WRIST, RIGHT_WRIST], :2] = wrist
    return pts


def _cues(est):
    return {c.name: c.value for c in est.cues}


def _calibrated() -> BodyPerceiver:
    body = BodyPerceiver()
    for i in range(10):
        body.read(i / 5, _pose())
    return body


def test_lean_toward_and_away():
    body = _calibrated()
    toward = body.read(2.2, _pose(shoulder_width=250))
    assert _cues(toward)["lean_toward"] > 0.9 and toward.complex_states["interest"] > 0.9
    away = _calibrated().read(2.2, _pose(shoulder_width=160))
    assert _cues(away)["lean_away"] > 0.9 and "lean_toward" not in _cues(away)


def test_shoulder_raise():
    est = _calibrated().read(2.2, _pose(neck=85))
    assert _cues(est)["shoulder_raise"] > 0.9


def test_hand_to_face_and_head_in_hand():
    near_mouth = _calibrated().read(2.2, _pose(wrist=(330.0, 345.0)))
    assert _cues(near_mouth)["hand_to_face"] > 0.9 and "head_in_hand" in _cues(near_mouth)
    beside_eye = _calibrated().read(2.2, _pose(wrist=(330.0, 250.0)))
    assert "hand_to_face" in _cues(beside_eye) and "head_in_hand" not in _cues(beside_eye)


def test_fidget_energy_rises_with_movement_only():
    still = _calibrated()
    for i in range(10):
        est = still.read(2 + i / 5, _pose())
    assert "fidget" not in _cues(est)
    busy = _calibrated()
    for i in range(10):
        est = busy.read(2 + i / 5, _pose(wrist=(320.0 + (80 if i % 2 else -80), 470.0)))
    assert _cues(est)["fidget"] > 0.5 and est.arousal > 0


def test_runs_below_the_face_rate_and_reads_a_photo():
    skdata = pytest.importorskip("skimage.data")
    body = BodyPerceiver(max_rate_hz=5.0)
    assert body.capabilities.max_rate_hz == 5.0 and body.capabilities.modality == "body"
    frame = np.full((480, 640, 3), 96, np.uint8)
    frame[:, 80:560] = cv2.resize(skdata.astronaut(), (480, 480))
    est = body.predict(VideoFrame(0.0, frame))
    assert est.confidence > 0 and est.probs == {}
    empty = body.predict(VideoFrame(0.2, np.full((480, 640, 3), 96, np.uint8)))
    assert empty.confidence == 0.0 and empty.reason
    other = BodyPerceiver()
    assert other.pose is body.pose  # one pose model per process; each perceiver keeps only its person's posture
    assert body._widths and not other._widths
    body.close()
    assert not body._widths and body.pose._pose is not None

"""``empathic eval face`` and the settings that switch face and body perception on, on images made here."""

from __future__ import annotations

import csv
import json

import cv2
import pytest

skdata = pytest.importorskip("skimage.data")

from empathic.agent import Settings  # noqa: E402
from empathic.agent.session.build import build_perceivers  # noqa: E402
from empathic.perception.face import BodyPerceiver, FacePerceiver  # noqa: E402
from empathic.ui.cli import main  # noqa: E402


@pytest.fixture
def faces(tmp_path):
    grey = cv2.cvtColor(skdata.astronaut()[60:250, 160:340], cv2.COLOR_RGB2GRAY)
    (tmp_path / "images").mkdir()
    rows = []
    for i, (emotion, img) in enumerate(
        [("happy", grey), ("happy", grey[:, ::-1]), ("contempt", grey), ("neutral", grey[5:, 5:])]
    ):
        path = f"images/{i}.png"
        cv2.imwrite(str(tmp_path / path), cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA))
        rows.append({"path": path, "emotion": emotion, "subject": "s1"})
    with (tmp_path / "labels.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "emotion", "subject"])
        writer.writeheader()
        writer.writerows(rows)
    return tmp_path


def test_eval_face_prints_the_report(faces, capsys):
    assert main(["eval", "face", "--data", str(faces), "--by", "subject"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 3 and report["n_excluded"] == 1
    assert report["per_class_recall"]["happy"] == 1.0
    assert {"accuracy", "macro_f1", "confusion", "ms_per_item"} <= set(report)
    assert report["by"]["subject"]["s1"]["n"] == 3


def test_eval_face_without_geometry(faces, capsys):
    assert main(["eval", "face", "--data", str(faces), "--fusion-weight", "0", "--zooms", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_meshed"] == 0 and report["zooms"] == [1.0]


def test_face_and_body_are_built_by_default_and_can_be_switched_off():
    kinds = {type(p) for p in build_perceivers(Settings())}
    assert {FacePerceiver, BodyPerceiver} <= kinds
    kinds = {type(p) for p in build_perceivers(Settings(face=False, body=False))}
    assert not kinds & {FacePerceiver, BodyPerceiver}

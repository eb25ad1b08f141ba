"""``empathic eval fusion`` on tiny folders made here: trials, per-modality and fused scores, exclusions."""

import json
import subprocess
import wave

import numpy as np
import pytest
from empathic.perception.estimates import ModalityEstimate
from empathic.perception.fusion import FusionConfig
from empathic.tooling.evals.fusion import build_trials, score
from empathic.ui.cli import main
from PIL import Image


def test_trials_pair_same_label_and_count_exclusions():
    faces = [{"path": f"f{i}.png", "emotion": e} for i, e in enumerate(["happy", "sad", "sad", "contempt"])]
    speech = [
        {"path": "a.wav", "emotion": "happy", "speaker": "1"},
        {"path": "b.wav", "emotion": "calm"},
        {"path": "c.wav", "emotion": "fearful"},
        {"path": "d.wav", "emotion": "sad", "speaker": "2"},
    ]
    trials, excluded = build_trials(faces, speech, seed=3)
    assert [(t.label, t.face_path in ("f1.png", "f2.png") or t.face_path) for t in trials] == [
        ("happy", "f0.png"),
        ("sad", True),
    ]
    assert excluded == 2  # calm is no basic emotion; no face shows fear
    again, _ = build_trials(faces, speech, seed=3)
    assert again == trials


def est(modality, label, conf=0.8):
    return ModalityEstimate(
        modality, 0.0, {label: 0.7, "neutral": 0.3} if label != "neutral" else {"neutral": 1.0}, 0.0, 0.0, conf
    )


def test_fusion_beats_single_modalities_when_their_errors_differ():
    from empathic.tooling.evals.fusion import Trial

    labels = ["happy", "sad", "angry"] * 4
    trials = [Trial(y, str(i % 2), {}, "") for i, y in enumerate(labels)]
    wrong = {"happy": "sad", "sad": "angry", "angry": "happy"}
    readings = []
    for i, y in enumerate(labels):  # face wrong (and less sure) on a third, voice on another third, words neutral
        readings.append({
            "face": est("face", wrong[y], 0.3) if i % 3 == 0 else est("face", y),
            "voice": est("voice", wrong[y], 0.3) if i % 3 == 1 else est("voice", y),
            "text": est("text", "neutral", 0.5),
        })  # fmt: skip
    rep = score(trials, readings, FusionConfig())
    assert rep["accuracy"]["face"] == rep["accuracy"]["voice"] == pytest.approx(8 / 12, abs=1e-3)
    assert rep["accuracy"]["fused"] > rep["accuracy"]["face"]
    assert 0 <= rep["ece"] <= 1 and rep["ms_per_fused_trial"] > 0


def test_eval_fusion_command_on_generated_media(tmp_path, capsys):
    faces, speech = tmp_path / "faces", tmp_path / "speech"
    faces.mkdir()
    speech.mkdir()
    rng = np.random.default_rng(0)
    rows = ["path,emotion"]
    for i, e in enumerate(["happy", "sad"]):
        Image.fromarray((rng.random((48, 48)) * 255).astype(np.uint8)).save(faces / f"{i}.png")
        rows.append(f"{i}.png,{e}")
    (faces / "labels.csv").write_text("\n".join(rows) + "\n")
    lines = ["path,emotion,speaker,speaker_sex,transcript"]
    for i, (e, text) in enumerate(
        [
            ("happy", "Kids are talking by the door"),
            ("sad", "Dogs are sitting by the door"),
            ("calm", "Kids are talking by the door"),
        ]
    ):
        subprocess.run(["espeak-ng", "-w", str(speech / f"{i}.wav"), text], check=True)
        lines.append(f"{i}.wav,{e},0{i % 2 + 1},{'male' if i % 2 else 'female'},{text}")
    (speech / "labels.csv").write_text("\n".join(lines) + "\n")
    assert main(["eval", "fusion", "--face-data", str(faces), "--speech-data", str(speech)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 2 and out["n_excluded"] == 1
    assert set(out["accuracy"]) == {"face", "voice", "text", "fused"} and 0 <= out["ece"] <= 1
    with wave.open(str(speech / "0.wav")) as w:
        assert w.getnframes() > 0


def test_nested_pairing_keeps_every_person_in_one_fold():
    from empathic.tooling.evals.fusion_nested import deal, pair

    labels = ["happy", "sad", "angry"]
    faces = [{"path": f"f{s}_{e}.png", "emotion": e, "subject": f"S{s}"} for s in range(8) for e in labels]
    speech = [{"path": f"{a}_{e}.wav", "emotion": e, "speaker": f"{a:02d}"} for a in range(8) for e in labels]
    trials, folds, excluded = pair(faces, speech, folds=4, seed=1)
    assert len(trials) == 24 and excluded == 0
    subject_fold = deal([r["subject"] for r in faces], 4)
    fold_of_face = {r["path"]: subject_fold[r["subject"]] for r in faces}
    speaker_fold = deal([r["speaker"] for r in speech], 4)
    for t, k in zip(trials, folds, strict=True):
        assert speaker_fold[t.speaker] == k == fold_of_face[t.face_path]
        assert t.face_path.endswith(f"_{t.label}.png")


def test_calibration_flattens_a_modality_that_is_surer_than_it_is_right():
    from empathic.tooling.evals.fusion import fit_calibration

    truth = ["happy", "sad"] * 10
    said = ["happy", "sad"] * 6 + ["sad", "happy"] * 4  # right 60% of the time, at 0.96 each time
    other = {"happy": "sad", "sad": "happy"}
    sure = [ModalityEstimate("voice", 0.0, {s: 0.96, other[s]: 0.02, "neutral": 0.02}, 0, 0, 0.9) for s in said]
    assert fit_calibration(truth, sure) > 1.0
    assert fit_calibration(truth, [ModalityEstimate.unknown("voice", 0.0, "x")] * 20) == 1.0


def test_nested_voice_readings_come_from_heads_that_never_heard_the_held_out_speakers(tmp_path):
    """Held-out speakers say each emotion with the *other* feature direction: a head trained on them would read them
    right; a head trained without them reads them wrong, as unseen people with other habits are read."""
    from empathic.perception.voice.asr import EMOTION_LAYERS
    from empathic.tooling.evals.fusion import VoiceReadings
    from empathic.tooling.train.voice import VERSIONS

    rng = np.random.default_rng(0)
    classes = ["happy", "sad"]
    rows, x = [], []
    for s in range(8):
        for i in range(12):
            label = classes[i % 2]
            flip = s % 4 == 0  # speakers 00 and 04 are dealt into fold 0 of 4
            sign = (1.0 if label == "happy" else -1.0) * (-1.0 if flip else 1.0)
            rows.append({"path": f"{s}_{i}.wav", "emotion": label, "speaker": f"{s:02d}", "speaker_sex": "fm"[s % 2]})
            x.append(np.r_[3.0 * sign, rng.normal(0, 1, 5)])
    cache = tmp_path / "cache.npz"
    xv = np.repeat(np.array(x, np.float32)[None], VERSIONS, axis=0)
    noisy = xv + rng.normal(0, 0.05, xv.shape).astype(np.float32)
    np.savez(cache, x=noisy, paths=np.array([r["path"] for r in rows]), layers=np.array(EMOTION_LAYERS))
    voices = VoiceReadings(tmp_path, rows, folds=4, cache=cache)
    probs = voices.without(frozenset({0}))
    held = voices.fold == 0
    assert set(np.asarray(voices.speakers)[held]) == {"00", "04"}
    assert np.isnan(probs[~held]).all() and np.allclose(probs[held].sum(axis=1), 1.0)
    assert (probs[held].argmax(axis=1) == voices.y[held]).mean() < 0.2


def test_fitted_settings_bring_the_stated_confidence_down_to_how_often_fusion_is_right():
    from empathic.tooling.evals.fusion import Trial, fit

    labels = ["happy", "sad", "angry"] * 10
    wrong = {"happy": "sad", "sad": "angry", "angry": "happy"}
    trials = [Trial(y, str(i % 5), {}, "") for i, y in enumerate(labels)]
    said = [wrong[y] if i % 5 in (0, 1) else y for i, y in enumerate(labels)]  # both channels right 60% of the time

    def sure(m, label):
        return ModalityEstimate(m, 0.0, {y: 0.9 if y == label else 0.05 for y in wrong}, 0.0, 0.0, 0.9)

    readings = [{"face": sure("face", s), "voice": sure("voice", s), "text": est("text", "neutral", 0.5)} for s in said]
    before = score(trials, readings, FusionConfig())
    after = score(trials, readings, fit(trials, readings, FusionConfig()))
    assert before["accuracy"]["fused"] == after["accuracy"]["fused"] == pytest.approx(0.6, abs=1e-3)
    assert before["mean_confidence"] > 0.8
    assert abs(after["mean_confidence"] - 0.6) < 0.1 and after["confidence_log_loss"] < before["confidence_log_loss"]

"""``empathic eval fusion``: every modality alone and fused, on multimodal trials built from two labelled folders.

A trial pairs a voice clip (with its transcript for the words) and a face image that carry the same label, chosen
with a seeded random generator. Each modality's estimate is read once; then each is scored alone (argmax) and all
three are fused with :class:`WeightedFuser` exactly as a live session fuses them. Labels outside the basic set
(RAVDESS's calm, CK+'s contempt) are excluded and counted.

The voice head shipped with empathic was trained on the development actors, so on the development split its
voice readings are in-sample; ``voice="oof"`` reads each clip with a head trained without that clip's actor
(leave-actors-out), which is what unseen people get. :mod:`tooling.evals.fusion_nested` fits the fusion settings
nested by speaker and face subject and is the protocol whose numbers predict unseen people.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from empathic.perception.estimates import ModalityEstimate
from empathic.perception.fusion import FusionConfig, WeightedFuser
from empathic.perception.labels import BASIC_EMOTIONS, valence_arousal
from empathic.perception.observations import TextTurn
from empathic.tooling.evals.metrics import expected_calibration_error, read_labels

ALIASES = {"fearful": "fear", "surprised": "surprise", "anger": "angry", "joy": "happy", "sadness": "sad"}
TRIAL_MODALITIES = ("face", "voice", "text")


@dataclass(frozen=True, slots=True)
class Trial:
    label: str
    speaker: str
    speech: dict[str, str]
    face_path: str


def _label(row: dict[str, str]) -> str:
    raw = row.get("emotion", "").strip()
    return ALIASES.get(raw, raw)


def build_trials(
    face_rows: Sequence[dict[str, str]], speech_rows: Sequence[dict[str, str]], seed: int = 0
) -> tuple[list[Trial], int]:
    """One trial per usable voice clip, with a same-label face drawn at random; returns (trials, excluded)."""
    rng = random.Random(seed)
    faces: dict[str, list[str]] = {}
    for r in face_rows:
        faces.setdefault(_label(r), []).append(r["path"])
    trials: list[Trial] = []
    for r in speech_rows:
        label = _label(r)
        if label in BASIC_EMOTIONS and faces.get(label):
            trials.append(Trial(label, r.get("speaker", ""), r, rng.choice(faces[label])))
    return trials, len(speech_rows) - len(trials)


def face_estimates(folder: Path, paths: Sequence[str]) -> dict[str, ModalityEstimate]:
    """The face pipeline's reading of each pre-cropped image (confidence as the live perceiver gives it)."""
    import cv2
    from empathic.perception.face.expression import ExpressionClassifier
    from empathic.perception.face.landmarks import FaceMesher
    from empathic.tooling.evals.face import read_crop

    classifier, mesher = ExpressionClassifier(), FaceMesher(static=True)
    out = {}
    for p in sorted(set(paths)):
        grey = cv2.imread(str(folder / p), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise FileNotFoundError(f"cannot read image {folder / p}")
        probs, _ = read_crop(grey, classifier, mesher)
        v, a = valence_arousal(probs)
        out[p] = ModalityEstimate("face", 0.0, probs, _clip(v), _clip(a), max(probs.values()), source="face")
    mesher.close()
    return out


def voice_estimates(
    folder: Path, trials: Sequence[Trial], mode: Literal["shipped", "oof"], folds: int = 4, cache: Path | None = None
) -> list[ModalityEstimate]:
    """The voice reading of each trial's clip: the shipped pipeline, or out-of-fold heads (see module doc)."""
    if mode == "oof":
        voices = VoiceReadings(folder, read_labels(folder), folds, cache)
        oof = np.nanmax([voices.without(frozenset({k})) for k in range(folds)], axis=0)
        return [voices.estimate(oof, t.speech["path"]) for t in trials]
    from empathic.perception.sources import read_audio
    from empathic.perception.voice.audio import RATE, to_mono16k
    from empathic.perception.voice.pipeline import SpeechPipeline
    from empathic.perception.voice.segmenter import speech_span

    pipeline = SpeechPipeline()
    pipeline.load()
    out = []
    for tr in trials:
        audio = to_mono16k(*read_audio(folder / tr.speech["path"]))
        pipeline.speaker = tr.speaker
        speech = speech_span(audio, pipeline.vad)
        out.append(pipeline.read(audio if speech is None else speech, audio.size / RATE).estimate)
    return out


def deal(keys: Sequence[str], folds: int) -> dict[str, int]:
    """Each distinct key (a speaker, a face subject) to a fold, round-robin over the sorted keys."""
    return {k: i % folds for i, k in enumerate(sorted(set(keys)))}


class VoiceReadings:
    """Vocal-emotion readings of every clip by heads trained without chosen speakers (cached per held-out set).

    Each head follows the shipped recipe (:func:`~empathic.tooling.train.voice.train_head`: augmented copies,
    settings and temperature chosen on inner folds of its own training actors), and reads the held-out actors through
    a fresh running speaker normaliser in one random arrival order, as the live pipeline reads a new user."""

    def __init__(self, folder: Path, rows: Sequence[dict[str, str]], folds: int, cache: Path | None) -> None:
        from empathic.perception.voice.emotion import HEAD_CLASSES
        from empathic.tooling.train.voice import VERSIONS, embed_folder

        self.rows = [r for r in rows if _label(r) in HEAD_CLASSES]
        self.xv = embed_folder(folder, self.rows, cache, VERSIONS)
        self.y = np.array([HEAD_CLASSES.index(_label(r)) for r in self.rows])
        self.speakers = [r.get("speaker", "") for r in self.rows]
        self.sexes = [r.get("speaker_sex", "") for r in self.rows]
        fold = deal(self.speakers, folds)
        self.fold = np.array([fold[s] for s in self.speakers])
        self.index = {r["path"]: i for i, r in enumerate(self.rows)}
        self._probs: dict[frozenset[int], np.ndarray] = {}

    def without(self, held: frozenset[int]) -> np.ndarray:
        """Head probabilities of the clips in folds ``held``, from a head trained on every other fold."""
        from empathic.tooling.train.voice import normalise, train_head

        if held not in self._probs:
            test = np.isin(self.fold, list(held))
            spk, sex = np.asarray(self.speakers), np.asarray(self.sexes)
            inner = min(3, len(set(spk[~test])))
            if inner < 2:
                raise ValueError("out-of-fold voice readings need at least two speakers outside the held-out folds")
            head, _, _ = train_head(self.xv[:, ~test], self.y[~test], list(spk[~test]), list(sex[~test]), inner)
            probs = np.full((len(self.rows), len(head.classes)), np.nan)
            probs[test] = head.predict_proba(normalise(self.xv[0, test], list(spk[test]), head, 100 + min(held)))
            self._probs[held] = probs
        return self._probs[held]

    def shipped(self) -> np.ndarray:
        """The shipped head's probabilities (in-sample for the development speakers it was trained on)."""
        from empathic.perception.voice.emotion import load_head
        from empathic.tooling.train.voice import normalise

        head = load_head()
        return head.predict_proba(normalise(self.xv[0], self.speakers, head, 100))

    def estimate(self, probs: np.ndarray, path: str) -> ModalityEstimate:
        from empathic.perception.voice.emotion import HEAD_CLASSES
        from empathic.perception.voice.pipeline import voice_estimate

        row = probs[self.index[path]]
        silent = ModalityEstimate.unknown("voice", 0.0, "prosody not used here")
        return voice_estimate({c: float(p) for c, p in zip(HEAD_CLASSES, row, strict=True)}, silent, 0.0)


def text_estimates(trials: Sequence[Trial]) -> list[ModalityEstimate]:
    from empathic.perception.text.factory import build_text_perceiver

    perceiver = build_text_perceiver()
    return [perceiver.estimate(TextTurn(0.0, t.speech.get("transcript", ""))) for t in trials]


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x))


def _argmax(est: ModalityEstimate) -> str:
    return max(est.probs, key=est.probs.__getitem__) if est.probs else "neutral"


def score(
    trials: Sequence[Trial], readings: Sequence[dict[str, ModalityEstimate]], config: FusionConfig
) -> dict[str, object]:
    """Accuracy of each modality alone and fused, ECE of the fused confidence, and fusion time per trial."""
    fused_pred, fused_conf, nll = [], [], 0.0
    config = config.model_copy(update={"hysteresis": 0.0})  # a trial is one moment; hysteresis belongs to streams
    start = time.perf_counter()
    for tr, reading in zip(trials, readings, strict=True):
        fuser = WeightedFuser(config)
        for m in TRIAL_MODALITIES:
            fuser.update(reading[m])
        s = fuser.state(0.0)
        fused_pred.append(s.dominant)
        fused_conf.append(s.confidence)
        nll -= math.log(max(s.probs[tr.label], 1e-9))
    per_trial_ms = 1000 * (time.perf_counter() - start) / max(1, len(trials))
    truth = [t.label for t in trials]
    single = {
        m: round(sum(_argmax(r[m]) == y for r, y in zip(readings, truth, strict=True)) / len(truth), 4)
        for m in TRIAL_MODALITIES
    }
    correct = [p == y for p, y in zip(fused_pred, truth, strict=True)]
    fused = round(sum(correct) / len(truth), 4)
    clipped = [min(max(c, 1e-6), 1 - 1e-6) for c in fused_conf]
    confidence_loss = -sum(math.log(c if ok else 1 - c) for c, ok in zip(clipped, correct, strict=True)) / len(truth)
    best = max(single, key=single.__getitem__)
    return {
        "accuracy": {**single, "fused": fused},
        "best_single": best,
        "gain_over_best_single": round(fused - single[best], 4),
        "ece": expected_calibration_error(fused_conf, correct),
        "mean_confidence": round(sum(fused_conf) / len(fused_conf), 4),
        "nll": round(nll / len(truth), 4),
        "confidence_log_loss": round(confidence_loss, 4),
        "ms_per_fused_trial": round(per_trial_ms, 4),
    }


GRID = {
    "calibration": (0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0),
    "reliability": (0.4, 0.7, 1.0),
    "temperature": (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 1.0, 1.4, 2.0),
    # > 0 keeps a single weak estimate from claiming high confidence in a live session
    "coverage_exponent": (0.25, 0.5, 0.75, 1.0),
}
FITTED = ("face", "voice")
"""Modalities whose settings the trials fit. The words of acted speech are two scripted sentences that carry no
emotion, so the words channel keeps its own settings here (and must not move the fused label: see ``words_pull``)."""


def _nll(truth: Sequence[str], probs: Sequence[dict[str, float]]) -> float:
    return -sum(math.log(max(p.get(y, 0.0), 1e-9)) for y, p in zip(truth, probs, strict=True)) / len(truth)


def fit_calibration(truth: Sequence[str], estimates: Sequence[ModalityEstimate]) -> float:
    """One modality's temperature: the grid value with the lowest NLL of its own readings (temperature scaling)."""
    from empathic.perception.fusion import _tempered

    usable = [(y, dict(e.probs)) for y, e in zip(truth, estimates, strict=True) if e.probs]
    if not usable:
        return 1.0
    ys, ps = zip(*usable, strict=True)
    return min(GRID["calibration"], key=lambda t: _nll(ys, [_tempered(p, t) for p in ps]))


def fit(trials: Sequence[Trial], readings: Sequence[dict[str, ModalityEstimate]], base: FusionConfig) -> FusionConfig:
    """Fusion settings from development trials, in stages: each fitted modality's calibration temperature (its own
    NLL), then reliabilities (fused accuracy, ties to the lower NLL), then the pooled temperature and the coverage
    exponent together by the log loss of the stated confidence (a proper score for "how sure", where binned ECE on a
    few hundred trials is too noisy to fit on). Only :data:`FITTED` modalities are touched."""
    truth = [t.label for t in trials]
    calibration = {**base.calibration}
    for m in FITTED:
        calibration[m] = fit_calibration(truth, [r[m] for r in readings])
    cfg = base.model_copy(update={"calibration": calibration})

    def rank(c: FusionConfig) -> tuple[float, float]:
        rep = score(trials, readings, c)
        return (-float(rep["accuracy"]["fused"]), float(rep["nll"]))  # type: ignore[index]

    options = [
        cfg.model_copy(update={"reliability": {**cfg.reliability, **dict(zip(FITTED, rel, strict=True))}})
        for rel in itertools.product(GRID["reliability"], repeat=len(FITTED))
        if max(rel) == 1.0  # only the ratio matters for the label; the largest is pinned at 1
    ]
    cfg = min(options, key=rank)
    return min(
        (
            cfg.model_copy(update={"temperature": t, "coverage_exponent": k})
            for t in GRID["temperature"]
            for k in GRID["coverage_exponent"]
        ),
        key=lambda c: float(score(trials, readings, c)["confidence_log_loss"]),  # type: ignore[arg-type]
    )


def settings_of(config: FusionConfig) -> dict[str, object]:
    """The fitted part of a config, as ``fusion_settings.json`` holds it."""
    return {
        "reliability": {m: config.reliability[m] for m in FITTED},
        "calibration": {m: config.calibration[m] for m in FITTED},
        "neutral_discount": dict(config.neutral_discount),
        "temperature": config.temperature,
        "coverage_exponent": config.coverage_exponent,
    }


def evaluate_fusion(
    face_dir: Path | str,
    speech_dir: Path | str,
    *,
    seed: int = 0,
    voice: Literal["shipped", "oof"] = "shipped",
    config: FusionConfig | None = None,
    cache: Path | None = None,
) -> dict[str, object]:
    """The report of ``empathic eval fusion`` without ``--nested``: the given (default: shipped) settings on every
    trial of one pairing. Nothing is fitted; see :mod:`tooling.evals.fusion_nested` for the protocol that fits."""
    face_dir, speech_dir = Path(face_dir), Path(speech_dir)
    trials, excluded = build_trials(read_labels(face_dir), read_labels(speech_dir), seed)
    if not trials:
        raise ValueError("no trials: the two folders share no basic-emotion label")
    faces = face_estimates(face_dir, [t.face_path for t in trials])
    voices = voice_estimates(speech_dir, trials, voice, cache=cache)
    texts = text_estimates(trials)
    readings = [
        {"face": faces[t.face_path], "voice": v, "text": x} for t, v, x in zip(trials, voices, texts, strict=True)
    ]
    report: dict[str, object] = {"n": len(trials), "n_excluded": excluded, "seed": seed, "voice": voice}
    return report | score(trials, readings, config or FusionConfig())

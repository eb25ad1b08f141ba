"""``empathic eval fusion``: every modality alone and fused, on multimodal trials built from two labelled folders.

A trial pairs a voice clip (with its transcript for the words) and a face image that carry the same label, chosen
with a seeded random generator. Each modality's estimate is read once; then each is scored alone (argmax) and all
three are fused with :class:`WeightedFuser` exactly as a live session fuses them. Labels outside the basic set
(RAVDESS's calm, CK+'s contempt) are excluded and counted.

The voice head shipped with empathic was trained on the development actors, so on the development split its
voice readings are in-sample; ``voice="oof"`` reads each clip with a head trained without that clip's actor
(leave-actors-out), which is what unseen people get. ``fit`` cross-fits the fusion settings the same way.
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
    from empathic.perception.voice.pipeline import voice_estimate

    silent = ModalityEstimate.unknown("voice", 0.0, "prosody not used here")
    if mode == "shipped":
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
    from empathic.perception.voice.emotion import HEAD_CLASSES
    from empathic.tooling.train.voice import Settings, embed_folder, fit_head, normalise

    xv = embed_folder(folder, [t.speech for t in trials], cache)
    y = np.array([HEAD_CLASSES.index(t.label) for t in trials])
    speakers = [t.speaker for t in trials]
    actors = sorted(set(speakers))
    fold_of = {a: i % folds for i, a in enumerate(actors)}
    probs: list[dict[str, float] | None] = [None] * len(trials)
    for k in range(folds):
        test = np.array([fold_of[s] == k for s in speakers])
        train_speakers = [s for s, m in zip(speakers, test, strict=True) if not m]
        head = fit_head(xv[:, ~test], y[~test], train_speakers, Settings(0.01, scale=False))
        xt = normalise(xv[0, test], [s for s, m in zip(speakers, test, strict=True) if m], head, 100 + k)
        for i, row in zip(np.flatnonzero(test), head.predict_proba(xt), strict=True):
            probs[i] = {c: float(p) for c, p in zip(HEAD_CLASSES, row, strict=True)}
    return [voice_estimate(p, silent, 0.0) for p in probs if p is not None]


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
    best = max(single, key=single.__getitem__)
    return {
        "accuracy": {**single, "fused": fused},
        "best_single": best,
        "gain_over_best_single": round(fused - single[best], 4),
        "ece": expected_calibration_error(fused_conf, correct),
        "mean_confidence": round(sum(fused_conf) / len(fused_conf), 4),
        "nll": round(nll / len(truth), 4),
        "ms_per_fused_trial": round(per_trial_ms, 4),
    }


GRID = {
    # descending: among equally accurate settings the first found, the most trusting, is kept
    "face": (1.0, 0.7, 0.4),
    "voice": (1.0, 0.7, 0.4),
    "text": (0.9, 0.6, 0.3, 0.1),
    "text_neutral_discount": (0.9, 0.5, 0.0),
    "temperature": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.3, 1.7),
    # > 0 keeps a single weak estimate from claiming high confidence in a live session
    "coverage_exponent": (0.25, 0.5, 1.0),
}


def with_params(
    base: FusionConfig, face: float, voice: float, text: float, discount: float, temp: float
) -> FusionConfig:
    return base.model_copy(
        update={
            "reliability": {**base.reliability, "face": face, "voice": voice, "text": text},
            "neutral_discount": {**base.neutral_discount, "text": discount},
            "temperature": temp,
        }
    )


def fit(
    trials: Sequence[Trial], readings: Sequence[dict[str, ModalityEstimate]], base: FusionConfig
) -> tuple[FusionConfig, float]:
    """Grid search: best accuracy, ties broken by lower NLL; returns the config and its accuracy."""
    best: tuple[float, float, FusionConfig] | None = None
    for rel in itertools.product(GRID["face"], GRID["voice"], GRID["text"], GRID["text_neutral_discount"]):
        cfg = with_params(base, *rel, 1.0)
        acc = float(score(trials, readings, cfg)["accuracy"]["fused"])  # type: ignore[index]
        if best is None or acc > best[0]:
            best = (acc, 0.0, cfg)
    assert best is not None
    acc, _, cfg = best
    # temperature barely moves the argmax: pick it for calibration alone (lowest ECE, then lowest NLL)
    temps = []
    for t, k in itertools.product(GRID["temperature"], GRID["coverage_exponent"]):
        rep = score(trials, readings, cfg.model_copy(update={"temperature": t, "coverage_exponent": k}))
        temps.append((float(rep["ece"]), float(rep["nll"]), t, k))  # type: ignore[arg-type]
    _, _, t, k = min(temps)
    return cfg.model_copy(update={"temperature": t, "coverage_exponent": k}), acc


def evaluate_fusion(
    face_dir: Path | str,
    speech_dir: Path | str,
    *,
    seed: int = 0,
    voice: Literal["shipped", "oof"] = "shipped",
    cross_fit: bool = False,
    config: FusionConfig | None = None,
    cache: Path | None = None,
) -> dict[str, object]:
    """The report of ``empathic eval fusion`` (see module doc)."""
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
    config = config or FusionConfig()
    report: dict[str, object] = {"n": len(trials), "n_excluded": excluded, "seed": seed, "voice": voice}
    report |= score(trials, readings, config)
    if cross_fit:
        report["cross_fit"] = _cross_fit(trials, readings, config)
    return report


def _cross_fit(
    trials: Sequence[Trial], readings: Sequence[dict[str, ModalityEstimate]], base: FusionConfig
) -> dict[str, object]:
    """Fit on half the speakers, score on the other half, both ways; also the fit on everything (to ship)."""
    speakers = sorted({t.speaker for t in trials})
    half = set(speakers[::2])
    parts = [[i for i, t in enumerate(trials) if (t.speaker in half) == side] for side in (True, False)]
    held: list[dict[str, object]] = []
    for train, test in (parts, parts[::-1]):
        cfg, _ = fit([trials[i] for i in train], [readings[i] for i in train], base)
        held.append(score([trials[i] for i in test], [readings[i] for i in test], cfg))
    full, _ = fit(trials, readings, base)
    n = [len(p) for p in parts[::-1]]

    def mean(key: str, sub: str | None = None) -> float:
        vals = [float(h[key][sub] if sub else h[key]) for h in held]  # type: ignore[index]
        return round(sum(v * k for v, k in zip(vals, n, strict=True)) / sum(n), 4)

    return {
        "held_out_accuracy": {m: mean("accuracy", m) for m in (*TRIAL_MODALITIES, "fused")},
        "held_out_ece": mean("ece"),
        "fitted_on_all": {
            "reliability": {m: full.reliability[m] for m in TRIAL_MODALITIES},
            "text_neutral_discount": full.neutral_discount.get("text", 0.0),
            "temperature": full.temperature,
            "coverage_exponent": full.coverage_exponent,
        },
    }

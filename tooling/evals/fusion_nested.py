"""``empathic eval fusion --nested``: fusion numbers that predict unseen people.

Speakers and face subjects are dealt into the same number of folds, and a trial pairs a clip of fold k with a
same-label face of fold k, so every fold holds people no other fold holds. For each fold k:

* the voice head that reads fold k is trained on the other folds' speakers (the shipped recipe, on people it
  never heard), as the shipped head reads a new user;
* the fusion settings (per-modality calibration, reliabilities, temperature, coverage exponent) are fitted on the
  other folds' trials only, whose voice readings come from heads trained without fold k *and* without the fold
  read (inner leave-folds-out), so the settings see readings as uncertain as the ones they will be applied to;
* fold k is scored once with those settings.

This is repeated for several pairing seeds; each seed's report has a 95% interval from a bootstrap over speakers
(trials of one speaker move together). ``words_pull`` is the share of trials whose fused label changes when the
words are left out: on scripted sentences it must stay near 0. ``shipped_settings`` scores the settings in
``fusion_settings.json`` on the same unseen readings, and ``fitted_on_all`` fits the settings to ship on every
trial (out-of-fold voice readings); ``--out`` writes them with where they came from.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
from empathic.perception.estimates import ModalityEstimate
from empathic.perception.fusion import FusionConfig
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.tooling.evals.fusion import (
    TRIAL_MODALITIES,
    Trial,
    VoiceReadings,
    _label,
    deal,
    face_estimates,
    fit,
    score,
    settings_of,
    text_estimates,
)
from empathic.tooling.evals.metrics import expected_calibration_error, read_labels

BOOTSTRAP = 1000


def pair(
    face_rows: Sequence[dict[str, str]], speech_rows: Sequence[dict[str, str]], folds: int, seed: int
) -> tuple[list[Trial], list[int], int]:
    """Trials whose clip and face come from the same fold; returns (trials, their folds, excluded clips)."""
    rng = random.Random(seed)
    speaker_fold = deal([r.get("speaker", "") for r in speech_rows], folds)
    face_fold = deal([r.get("subject") or r["path"] for r in face_rows], folds)
    faces: dict[tuple[int, str], list[str]] = {}
    for r in face_rows:
        faces.setdefault((face_fold[r.get("subject") or r["path"]], _label(r)), []).append(r["path"])
    trials, fold_of = [], []
    for r in speech_rows:
        k, label = speaker_fold[r.get("speaker", "")], _label(r)
        if label in BASIC_EMOTIONS and faces.get((k, label)):
            trials.append(Trial(label, r.get("speaker", ""), r, rng.choice(faces[(k, label)])))
            fold_of.append(k)
    return trials, fold_of, len(speech_rows) - len(trials)


def _interval(values: np.ndarray) -> list[float]:
    return [round(float(np.percentile(values, 2.5)), 4), round(float(np.percentile(values, 97.5)), 4)]


def _bootstrap(speakers: Sequence[str], correct: dict[str, np.ndarray], best: str, seed: int) -> dict[str, list[float]]:
    """95% intervals of fused accuracy and of its gain over the best single modality, resampling speakers."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(np.asarray(speakers) == s) for s in sorted(set(speakers))]
    fused, gain = [], []
    for _ in range(BOOTSTRAP):
        idx = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        fused.append(correct["fused"][idx].mean())
        gain.append(correct["fused"][idx].mean() - correct[best][idx].mean())
    return {"fused_ci95": _interval(np.array(fused)), "gain_ci95": _interval(np.array(gain))}


def _words_pull(readings: Sequence[dict[str, ModalityEstimate]], config: FusionConfig) -> float:
    """Share of trials whose fused label changes when the words are left out."""
    from empathic.perception.fusion import WeightedFuser

    config = config.model_copy(update={"hysteresis": 0.0})
    changed = 0
    for r in readings:
        labels = []
        for modalities in (TRIAL_MODALITIES, tuple(m for m in TRIAL_MODALITIES if m != "text")):
            fuser = WeightedFuser(config)
            for m in modalities:
                fuser.update(r[m])
            labels.append(fuser.state(0.0).dominant)
        changed += labels[0] != labels[1]
    return round(changed / len(readings), 4)


def evaluate_nested(
    face_dir: Path | str,
    speech_dir: Path | str,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    folds: int = 4,
    voice: Literal["oof", "shipped"] = "oof",
    cache: Path | None = None,
) -> dict[str, object]:
    """The report of ``empathic eval fusion --nested`` (see module doc); ``voice="shipped"`` reads every evaluated
    clip with the shipped head instead, which on development speakers is in-sample (an upper bound, for contrast)."""
    face_dir, speech_dir = Path(face_dir), Path(speech_dir)
    face_rows, speech_rows = read_labels(face_dir), read_labels(speech_dir)
    voices = VoiceReadings(speech_dir, speech_rows, folds, cache)
    faces = face_estimates(face_dir, [r["path"] for r in face_rows])
    sentences = sorted({r.get("transcript", "") for r in speech_rows})
    words = dict(zip(sentences, text_estimates([Trial("", "", {"transcript": s}, "") for s in sentences]), strict=True))
    report = nested_report(face_rows, speech_rows, faces, words, voices, seeds=seeds, folds=folds, voice=voice)
    return {"face_data": face_dir.name, "speech_data": speech_dir.name, **report}


def nested_report(
    face_rows: Sequence[dict[str, str]],
    speech_rows: Sequence[dict[str, str]],
    faces: dict[str, ModalityEstimate],
    words: dict[str, ModalityEstimate],
    voices: VoiceReadings,
    *,
    seeds: Sequence[int],
    folds: int,
    voice: Literal["oof", "shipped"] = "oof",
) -> dict[str, object]:
    """The nested protocol on readings made once: faces by path, words by sentence, voices by held-out folds."""
    outer = {k: voices.without(frozenset({k})) for k in range(folds)}
    shipped = voices.shipped() if voice == "shipped" else None

    def readings(trials: Sequence[Trial], probs: np.ndarray) -> list[dict[str, ModalityEstimate]]:
        return [
            {
                "face": faces[t.face_path],
                "voice": voices.estimate(probs, t.speech["path"]),
                "text": words[t.speech.get("transcript", "")],
            }
            for t in trials
        ]

    per_seed, fitted, everything = [], [], []
    for seed in seeds:
        trials, fold_of, excluded = pair(face_rows, speech_rows, folds, seed)
        scored_trials: list[Trial] = []
        scored: list[dict[str, ModalityEstimate]] = []
        per_trial: dict[str, list[bool]] = {m: [] for m in (*TRIAL_MODALITIES, "fused")}
        confidences: list[float] = []
        default_readings: list[dict[str, ModalityEstimate]] = []
        for k in range(folds):
            train = [i for i, f in enumerate(fold_of) if f != k]
            train_readings = [
                {
                    "face": faces[trials[i].face_path],
                    "voice": voices.estimate(voices.without(frozenset({k, fold_of[i]})), trials[i].speech["path"]),
                    "text": words[trials[i].speech.get("transcript", "")],
                }
                for i in train
            ]
            cfg = fit([trials[i] for i in train], train_readings, FusionConfig())
            fitted.append({"seed": seed, "fold": k, **settings_of(cfg)})
            test = [trials[i] for i, f in enumerate(fold_of) if f == k]
            test_readings = readings(test, outer[k] if shipped is None else shipped)
            for t, r in zip(test, test_readings, strict=True):
                rep = score([t], [r], cfg)
                for m in per_trial:
                    per_trial[m].append(rep["accuracy"][m] == 1.0)  # type: ignore[index]
                confidences.append(float(rep["mean_confidence"]))  # type: ignore[arg-type]
            scored_trials += test
            scored += test_readings
            default_readings += readings(test, outer[k])
        everything.append((scored_trials, default_readings))
        correct = {m: np.array(v) for m, v in per_trial.items()}
        accuracy = {m: round(float(v.mean()), 4) for m, v in correct.items()}
        best = max(TRIAL_MODALITIES, key=accuracy.__getitem__)
        per_seed.append({
            "seed": seed,
            "n": len(scored_trials),
            "n_excluded": excluded,
            "accuracy": accuracy,
            "best_single": best,
            "gain_over_best_single": round(accuracy["fused"] - accuracy[best], 4),
            **_bootstrap([t.speaker for t in scored_trials], correct, best, seed),
            "ece": expected_calibration_error(confidences, list(correct["fused"])),
            "accuracy_by_speaker_sex": _by_sex(scored_trials, correct),
            "words_pull": _words_pull(scored, FusionConfig()),
            "shipped_settings": _summary(score(scored_trials, default_readings, FusionConfig())),
        })  # fmt: skip
    all_trials = [t for ts, _ in everything for t in ts]
    all_readings = [r for _, rs in everything for r in rs]
    final = fit(all_trials, all_readings, FusionConfig())
    return {
        "protocol": "nested by speaker and face subject; voice heads and fusion settings fitted without the "
        "evaluated fold; inner leave-folds-out voice readings for fitting",
        "voice": voice,
        "folds": folds,
        "seeds": list(seeds),
        "per_seed": per_seed,
        "mean": {
            key: round(float(np.mean([s[key] for s in per_seed])), 4)  # type: ignore[index]
            for key in ("gain_over_best_single", "ece", "words_pull")
        }
        | {"accuracy": {m: round(float(np.mean([s["accuracy"][m] for s in per_seed])), 4) for m in per_trial}},  # type: ignore[index]
        "fitted_per_fold": fitted,
        "fitted_on_all": settings_of(final),
        "fitted_on": f"{len(all_trials)} trials ({len(seeds)} pairings), out-of-fold voice readings",
    }


def _by_sex(trials: Sequence[Trial], correct: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Each modality's and the fused accuracy per speaker sex (the fairness gap fusion must not widen)."""
    sex = np.array([t.speech.get("speaker_sex", "") for t in trials])
    return {s: {m: round(float(v[sex == s].mean()), 4) for m, v in correct.items()} for s in sorted(set(sex)) if s}


def _summary(rep: dict[str, object]) -> dict[str, object]:
    return {k: rep[k] for k in ("accuracy", "gain_over_best_single", "ece")}


def settings_file(report: dict[str, object], command: str) -> dict[str, object]:
    """The contents of ``fusion_settings.json``: the fitted settings and where they came from."""
    return {
        "source": {
            "command": command,
            "fitted": str(date.today()),
            "data": f"{report['face_data']} + {report['speech_data']} (development splits)",
            "fitted_on": report["fitted_on"],
            "nested_mean": report["mean"],
            "card": "perception/FUSION_CARD.md",
        },
        "settings": report["fitted_on_all"],
    }

"""Train the vocal-emotion head: ``empathic train voice --data ../shared/evaldata/ravdess_speech --out FILE``.

Each clip is cut to its speech by the live segmenter and encoded by the live whisper-base encoder, so the head
learns exactly the embedding it will see at run time; training clips are also encoded after one speed, pitch, noise
and reverberation perturbation each (:mod:`.audio_augment`). Embeddings are cached (``--cache``, outside the
repository) because encoding is the slow part. Embeddings are normalised per speaker the way the live pipeline does
it (a running mean and optionally variance in arrival order, see
:class:`~empathic.perception.voice.emotion.SpeakerNormaliser`); every perturbed copy
of an actor counts as a speaker of its own, in a random arrival order.

Generalisation is estimated by nested leave-actors-out cross-validation: outer folds of unseen actors (each fold
balanced by sex), and inside each outer training set the settings (L2, variance scaling) and the softmax
temperature are chosen on inner leave-actors-out folds, so nothing is fitted on the evaluated actors. The shipped
head is then chosen the same way on all actors and fitted on all of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from empathic.perception.sources import read_audio
from empathic.perception.voice.asr import EMOTION_LAYERS, FasterWhisperBackend
from empathic.perception.voice.audio import to_mono16k
from empathic.perception.voice.emotion import HEAD_CLASSES, HIGH_AROUSAL, LinearHead
from empathic.perception.voice.segmenter import speech_span
from empathic.perception.voice.vad import load_vad
from empathic.tooling.evals.metrics import (
    breakdown,
    classification_report,
    expected_calibration_error,
    gap_interval,
    read_labels,
)
from empathic.tooling.train import writable_output
from empathic.tooling.train.audio_augment import perturbations

PRIOR_WEIGHT = 4.0
"""Utterances the training statistics count as in a new speaker's running normaliser."""
VERSIONS = 5
"""Encodings per clip: clean, then one speed, pitch, noise and reverberation perturbation."""
TEMPERATURES = np.round(np.arange(0.5, 3.01, 0.1), 2)
TEST_ORDERS = (100, 101, 102)
"""Random arrival orders of each unseen actor's clips; results are averaged over them (plus file order, reported)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the nested cross-validation chooses between."""

    l2: float
    scale: bool  # divide by the speaker's running std too, not only subtract the running mean


GRID = tuple(Settings(l2, scale) for l2 in (3e-3, 3e-2) for scale in (False, True))


def embed_folder(folder: Path, rows: Sequence[dict[str, str]], cache: Path | None, versions: int = 1) -> np.ndarray:
    """Pooled embeddings (versions, n, features) of every row's clip: clean first, then its perturbed copies.

    Read from ``cache`` when it holds the same clips, encoder layers and at least ``versions`` versions."""
    paths = [r["path"] for r in rows]
    if cache and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            same = "layers" in z and tuple(z["layers"]) == EMOTION_LAYERS and list(z["paths"]) == paths
            if same and z["x"].shape[0] >= versions:
                return z["x"][:versions]
    backend, vad = FasterWhisperBackend(word_timestamps=False), load_vad("silero")
    if backend.lower is None:
        raise OSError("the lower encoder layers could not be kept beside the Whisper model (see the log)")
    out = np.zeros((versions, len(paths), 0), np.float32)
    for i, p in enumerate(paths):
        samples, rate = read_audio(folder / p)
        audio = to_mono16k(samples, rate)
        speech = speech_span(audio, vad)
        clean = audio if speech is None else speech
        copies = [clean, *(f(clean) for _, f in perturbations(np.random.default_rng(1000 + i)))][:versions]
        embedded = np.stack([backend.embed(a) for a in copies])
        if out.shape[2] == 0:
            out = np.zeros((versions, len(paths), embedded.shape[1]), np.float32)
        out[:, i] = embedded
        print(f"\rembedded {i + 1}/{len(paths)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=out, paths=np.array(paths), layers=np.array(EMOTION_LAYERS))
    return out


def normalise(x: np.ndarray, speakers: Sequence[str], head: LinearHead, seed: int | None) -> np.ndarray:
    """Each speaker's embeddings through the head's :class:`SpeakerNormaliser`, in a random arrival order (or in
    the given order when ``seed`` is None), as the live pipeline reads them."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(x, dtype=np.float64)
    spk = np.asarray(speakers)
    for s in sorted(set(speakers)):
        idx = np.flatnonzero(spk == s)
        if seed is not None:
            rng.shuffle(idx)
        running = head.normaliser()
        for i in idx:
            out[i] = running(x[i])
    return out


def fit_head(xv: np.ndarray, y: np.ndarray, speakers: Sequence[str], settings: Settings, seed: int = 0) -> LinearHead:
    """A head trained behind the running per-speaker normaliser on every version of the clips in ``xv``.

    The prior is the clean clips' mean and their average within-speaker variance; each (speaker, version) is a
    speaker of its own, so pitch- and speed-shifted actors widen the set of voices the head has to see past."""
    clean = xv[0].astype(np.float64)
    spk = np.asarray(speakers)
    prior_mean = clean.mean(axis=0)
    prior_var = np.mean([clean[spk == s].var(axis=0) for s in sorted(set(speakers))], axis=0)
    prior = LinearHead(
        prior_mean,
        np.ones_like(prior_mean),
        np.zeros((1, prior_mean.size)),
        np.zeros(1),
        ("",),
        prior_mean,
        prior_var,
        PRIOR_WEIGHT,
        settings.scale,
    )
    groups = [f"{s}/{v}" for v in range(xv.shape[0]) for s in speakers]
    z = normalise(xv.reshape(-1, xv.shape[2]), groups, prior, seed)
    head = fit(z, np.tile(y, xv.shape[0]), settings.l2)
    return LinearHead(
        head.mean,
        head.scale,
        head.coef,
        head.intercept,
        head.classes,
        prior_mean,
        prior_var,
        PRIOR_WEIGHT,
        settings.scale,
    )


def fit(x: np.ndarray, y: np.ndarray, l2: float, classes: Sequence[str] = HEAD_CLASSES) -> LinearHead:
    """Multinomial logistic regression on standardised features (L-BFGS, full batch, mean loss + l2 * |W|^2).

    The result reads features as they are (no speaker statistics: zero prior weight); :func:`fit_head` adds them.
    """
    import torch

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = torch.tensor((x - mean) / scale, dtype=torch.float64)
    target = torch.tensor(y)
    w = torch.zeros((len(classes), x.shape[1]), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(len(classes), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, tolerance_grad=1e-6, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ w.T + b, target) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    zeros = np.zeros_like(mean)
    return LinearHead(
        mean, scale, w.detach().numpy(), b.detach().numpy(), tuple(classes), zeros, np.ones_like(mean), 0.0, False
    )


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature (from :data:`TEMPERATURES`) with the lowest log loss on held-out logits."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))

    return float(min(TEMPERATURES, key=nll))


def actor_folds(speakers: Sequence[str], sexes: Sequence[str], folds: int) -> dict[str, int]:
    """Actors dealt round-robin into ``folds`` groups after sorting by sex, so every fold holds both sexes."""
    sex_of = dict(zip(speakers, sexes, strict=True))
    actors = sorted(set(speakers), key=lambda a: (sex_of[a], a))
    return {a: i % folds for i, a in enumerate(actors)}


def held_out_logits(
    xv: np.ndarray, y: np.ndarray, speakers: Sequence[str], sexes: Sequence[str], settings: Settings, folds: int
) -> np.ndarray:
    """Leave-actors-out logits (temperature 1, one random arrival order) of every clip, for choosing settings."""
    fold_of = actor_folds(speakers, sexes, folds)
    spk = np.asarray(speakers)
    logits = np.zeros((len(y), len(HEAD_CLASSES)))
    for k in range(folds):
        test = np.array([fold_of[s] == k for s in speakers])
        head = fit_head(xv[:, ~test], y[~test], list(spk[~test]), settings)
        logits[test] = head.logits(normalise(xv[0, test], list(spk[test]), head, seed=100 + k))
    return logits


def choose(
    xv: np.ndarray, y: np.ndarray, speakers: Sequence[str], sexes: Sequence[str], folds: int
) -> tuple[Settings, float, dict[str, float]]:
    """Settings with the best inner leave-actors-out log loss, and the temperature fitted on their held-out logits."""
    trials = {}
    for settings in GRID:
        logits = held_out_logits(xv, y, speakers, sexes, settings, folds)
        t = fit_temperature(logits, y)
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        loss = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))
        trials[settings] = (loss, float((logits.argmax(axis=1) == y).mean()), t)
    best = min(trials, key=lambda s: trials[s][0])
    return best, trials[best][2], {f"l2={s.l2} scale={s.scale}": round(v[1], 4) for s, v in trials.items()}


def train_head(
    xv: np.ndarray, y: np.ndarray, speakers: Sequence[str], sexes: Sequence[str], folds: int
) -> tuple[LinearHead, Settings, dict[str, float]]:
    """The shipped recipe: settings and temperature chosen on leave-actors-out folds of these actors, then the head
    fitted on all of them; returns (head, settings, selection accuracy per setting)."""
    settings, t, trials = choose(xv, y, speakers, sexes, folds)
    return replace(fit_head(xv, y, speakers, settings), temperature=t), settings, trials


def arousal_accuracy(truth: Sequence[str], pred: Sequence[str]) -> float:
    """Share of clips whose predicted class falls on the same side of high/low arousal as the label."""
    hits = [(t in HIGH_AROUSAL) == (p in HIGH_AROUSAL) for t, p in zip(truth, pred, strict=True)]
    return round(sum(hits) / len(hits), 4) if hits else 0.0


def score(
    labels: Sequence[str], probs: np.ndarray, sexes: Sequence[str], speakers: Sequence[str] | None = None
) -> dict[str, object]:
    """Accuracy, macro F1, arousal side, per-sex accuracy and calibration of one set of predictions; with
    ``speakers``, accuracy per speaker and the female-minus-male gap's 95% interval over speakers."""
    pred = [HEAD_CLASSES[i] for i in probs.argmax(axis=1)]
    report = classification_report(labels, pred, HEAD_CLASSES)
    by_sex = {s: r["accuracy"] for s, r in breakdown(labels, pred, sexes, HEAD_CLASSES).items()}
    correct = [p == t for p, t in zip(pred, labels, strict=True)]
    conf = probs.max(axis=1)
    ece_by_sex = {
        s: expected_calibration_error(
            [c for c, g in zip(conf, sexes, strict=True) if g == s],
            [k for k, g in zip(correct, sexes, strict=True) if g == s],
        )
        for s in sorted(set(sexes))
    }
    by_speaker = {}
    if speakers is not None:
        by_speaker["accuracy_by_speaker"] = {
            s: r["accuracy"] for s, r in breakdown(labels, pred, speakers, HEAD_CLASSES).items()
        }
        if len(by_sex) == 2:
            by_speaker["sex_gap_ci95"] = gap_interval(correct, sexes, speakers)
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "arousal_accuracy": arousal_accuracy(labels, pred),
        "accuracy_by_sex": by_sex,
        "sex_gap": round(max(by_sex.values()) - min(by_sex.values()), 4) if len(by_sex) > 1 else 0.0,
        "ece": expected_calibration_error(list(conf), correct),
        "ece_by_sex": ece_by_sex,
        "per_class_recall": report["per_class_recall"],
        **by_speaker,
    }


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": round(float(np.mean(values)), 4),
        "std": round(float(np.std(values)), 4),
        "min": round(float(np.min(values)), 4),
        "max": round(float(np.max(values)), 4),
    }


def cross_validate(
    xv: np.ndarray,
    labels: Sequence[str],
    speakers: Sequence[str],
    sexes: Sequence[str],
    folds: int,
    inner_folds: int = 3,
) -> dict[str, object]:
    """Nested leave-actors-out CV: per outer fold, settings and temperature are chosen on inner folds of the
    training actors only; the unseen actors are read online in random arrival orders and in file order."""
    y = np.array([HEAD_CLASSES.index(lab) for lab in labels])
    spk, sex, lab = np.asarray(speakers), np.asarray(sexes), np.asarray(labels)
    fold_of = actor_folds(speakers, sexes, folds)
    per_fold, chosen = [], []
    pooled = {order: np.zeros((len(y), len(HEAD_CLASSES))) for order in ("random", "file")}
    for k in range(folds):
        test = np.array([fold_of[s] == k for s in speakers])
        tr = ~test
        head, settings, _ = train_head(xv[:, tr], y[tr], list(spk[tr]), list(sex[tr]), inner_folds)
        random = np.mean(
            [head.predict_proba(normalise(xv[0, test], list(spk[test]), head, seed)) for seed in TEST_ORDERS], axis=0
        )
        pooled["random"][test] = random
        pooled["file"][test] = head.predict_proba(normalise(xv[0, test], list(spk[test]), head, None))
        fold_scores = [
            score(
                list(lab[test]), head.predict_proba(normalise(xv[0, test], list(spk[test]), head, s)), list(sex[test])
            )
            for s in TEST_ORDERS
        ]
        per_fold.append(
            {m: float(np.mean([f[m] for f in fold_scores])) for m in ("accuracy", "arousal_accuracy", "sex_gap", "ece")}
        )
        chosen.append(
            {**asdict(settings), "temperature": head.temperature, "actors": sorted(str(a) for a in set(spk[test]))}
        )
    return {
        "folds": folds,
        "accuracy_over_folds": _spread([f["accuracy"] for f in per_fold]),
        "arousal_over_folds": _spread([f["arousal_accuracy"] for f in per_fold]),
        "sex_gap_over_folds": _spread([f["sex_gap"] for f in per_fold]),
        "pooled_random_order_argmax_of_mean": score(labels, pooled["random"], sexes, speakers),
        "pooled_file_order": score(labels, pooled["file"], sexes, speakers),
        "chosen_per_fold": chosen,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="empathic train voice", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with labels.csv (path, emotion, speaker)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/empathic-voice-embeddings-v3.npz"))
    parser.add_argument("--out", type=Path, required=True, help="where to write the .npz (never the shipped head)")
    parser.add_argument("--folds", type=int, default=4, help="outer leave-actors-out folds")
    parser.add_argument("--no-cv", action="store_true", help="skip the nested cross-validation (settings still chosen)")
    args = parser.parse_args(argv)

    rows = [r for r in read_labels(args.data) if r["emotion"] in HEAD_CLASSES]
    xv = embed_folder(args.data, rows, args.cache, VERSIONS)
    labels = [r["emotion"] for r in rows]
    speakers = [r["speaker"] for r in rows]
    sexes = [r.get("speaker_sex", "") for r in rows]
    y = np.array([HEAD_CLASSES.index(lab) for lab in labels])
    cv = None if args.no_cv else cross_validate(xv, labels, speakers, sexes, args.folds)
    head, settings, trials = train_head(xv, y, speakers, sexes, args.folds)
    out = writable_output(args.out)
    head.save(out)
    summary = {
        "n": len(rows),
        "speakers": len(set(speakers)),
        "versions": VERSIONS,
        "settings": {**asdict(settings), "temperature": head.temperature},
        "selection_accuracy": trials,
        "cv": cv,
        "out": str(out),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the vocal-emotion head: ``python -m perception.voice.train --data ../shared/evaldata/ravdess_speech``.

Each clip is cut to its speech by the live segmenter and encoded by the live whisper-base encoder, so the head
learns exactly the embedding it will see at run time. Embeddings are cached (``--cache``, outside the repository)
because encoding is the slow part. Generalisation is estimated by leave-actors-out cross-validation (folds grouped
by speaker, as the sealed holdout holds unseen actors); the L2 strength is picked on those folds, then the head is
fitted on every actor and written with its metrics, which the model card quotes. Embeddings are centred per speaker
the way the live pipeline does it (a running mean in arrival order, see :class:`SpeakerCentring`); training uses a
few random arrival orders so the head does not depend on one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from empathic.perception.sources import read_audio
from empathic.perception.voice.asr import FasterWhisperBackend
from empathic.perception.voice.audio import to_mono16k
from empathic.perception.voice.emotion import HEAD_CLASSES, HIGH_AROUSAL, LinearHead, SpeakerCentring
from empathic.perception.voice.segmenter import speech_span
from empathic.perception.voice.vad import load_vad
from empathic.tooling.evals.metrics import breakdown, classification_report, read_labels
from empathic.tooling.train import writable_output

PRIOR_WEIGHT = 4.0
ORDERS = 3
"""Random arrival orders per speaker in the training set (augmentation for the running centring)."""


def embed_folder(folder: Path, rows: Sequence[dict[str, str]], cache: Path | None) -> np.ndarray:
    """Pooled encoder embeddings of every row's clip, (n, 1024), read from ``cache`` when it matches."""
    paths = [r["path"] for r in rows]
    if cache and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if list(z["paths"]) == paths:
                return z["x"]
    backend, vad = FasterWhisperBackend(word_timestamps=False), load_vad("silero")
    out = []
    for i, p in enumerate(paths):
        samples, rate = read_audio(folder / p)
        audio = to_mono16k(samples, rate)
        speech = speech_span(audio, vad)
        out.append(backend.embed(audio if speech is None else speech))
        print(f"\rembedded {i + 1}/{len(paths)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    x = np.stack(out)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, paths=np.array(paths))
    return x


def centre(x: np.ndarray, speakers: Sequence[str], prior: np.ndarray, seed: int) -> np.ndarray:
    """Each speaker's embeddings centred by :class:`SpeakerCentring` in one random arrival order."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(x, dtype=np.float64)
    for s in sorted(set(speakers)):
        idx = np.flatnonzero(np.asarray(speakers) == s)
        rng.shuffle(idx)
        baseline = SpeakerCentring(prior, PRIOR_WEIGHT)
        for i in idx:
            out[i] = baseline(x[i])
    return out


def fit_centred(x: np.ndarray, y: np.ndarray, speakers: Sequence[str], l2: float) -> LinearHead:
    """A head trained behind per-speaker centring, on :data:`ORDERS` arrival orders stacked."""
    prior = x.mean(axis=0).astype(np.float64)
    xs = np.concatenate([centre(x, speakers, prior, seed) for seed in range(ORDERS)])
    head = fit(xs, np.tile(y, ORDERS), l2)
    return LinearHead(head.mean, head.scale, head.coef, head.intercept, head.classes, prior, PRIOR_WEIGHT)


def fit(x: np.ndarray, y: np.ndarray, l2: float, classes: Sequence[str] = HEAD_CLASSES) -> LinearHead:
    """Multinomial logistic regression on standardised features (L-BFGS, full batch, mean loss + l2 * |W|^2).

    The result has no speaker centring (zero prior, weight 0); :func:`fit_centred` adds it.
    """
    import torch

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = torch.tensor((x - mean) / scale, dtype=torch.float64)
    target = torch.tensor(y)
    w = torch.zeros((len(classes), x.shape[1]), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(len(classes), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500, tolerance_grad=1e-7, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ w.T + b, target) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return LinearHead(mean, scale, w.detach().numpy(), b.detach().numpy(), tuple(classes), np.zeros_like(mean), 0.0)


def arousal_accuracy(truth: Sequence[str], pred: Sequence[str]) -> float:
    """Share of clips whose predicted class falls on the same side of high/low arousal as the label."""
    hits = [(t in HIGH_AROUSAL) == (p in HIGH_AROUSAL) for t, p in zip(truth, pred, strict=True)]
    return round(sum(hits) / len(hits), 4) if hits else 0.0


def cross_validate(
    x: np.ndarray, labels: Sequence[str], speakers: Sequence[str], sexes: Sequence[str], l2: float, folds: int
) -> dict[str, object]:
    """Leave-actors-out CV: actors are dealt round-robin into ``folds`` groups, each held out once."""
    actors = sorted(set(speakers))
    fold_of = {a: i % folds for i, a in enumerate(actors)}
    y = np.array([HEAD_CLASSES.index(lab) for lab in labels])
    spk = np.asarray(speakers)
    pred = [""] * len(labels)
    for k in range(folds):
        test = np.array([fold_of[s] == k for s in speakers])
        head = fit_centred(x[~test], y[~test], list(spk[~test]), l2)
        x_test = centre(x[test], list(spk[test]), head.speaker_prior, seed=100 + k)
        for i, p in zip(np.flatnonzero(test), head.predict_proba(x_test).argmax(axis=1), strict=True):
            pred[i] = HEAD_CLASSES[p]
    report = classification_report(labels, pred, HEAD_CLASSES)
    by_sex = breakdown(labels, pred, sexes, HEAD_CLASSES)
    return {
        "l2": l2,
        "folds": folds,
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "arousal_accuracy": arousal_accuracy(labels, pred),
        "accuracy_by_sex": {s: r["accuracy"] for s, r in by_sex.items()},
        "per_class_recall": report["per_class_recall"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m empathic.tooling.train.voice", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with labels.csv (path, emotion, speaker)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/empathic-voice-embeddings.npz"))
    parser.add_argument("--out", type=Path, required=True, help="where to write the .npz (never the shipped head)")
    parser.add_argument("--folds", type=int, default=4, help="leave-actors-out folds")
    parser.add_argument("--l2", type=float, nargs="+", default=[1e-3, 1e-2])
    args = parser.parse_args(argv)

    rows = [r for r in read_labels(args.data) if r["emotion"] in HEAD_CLASSES]
    x = embed_folder(args.data, rows, args.cache)
    labels = [r["emotion"] for r in rows]
    speakers = [r["speaker"] for r in rows]
    sexes = [r.get("speaker_sex", "") for r in rows]
    trials = [cross_validate(x, labels, speakers, sexes, l2, args.folds) for l2 in args.l2]
    best = max(trials, key=lambda t: (t["accuracy"], t["arousal_accuracy"]))
    head = fit_centred(x, np.array([HEAD_CLASSES.index(lab) for lab in labels]), speakers, float(best["l2"]))
    out = writable_output(args.out)
    head.save(out)
    summary = {
        "n": len(rows),
        "speakers": len(set(speakers)),
        "cv": best,
        "l2_trials": {str(t["l2"]): t["accuracy"] for t in trials},
        "out": str(out),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

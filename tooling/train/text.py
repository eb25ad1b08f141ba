"""Train the MiniLM text heads: ``python -m perception.text.train [--data DIR] [--dialogue] [--out FILE]``.

Reads the development corpora in ``DIR`` (default ``../shared/evaldata``): GoEmotions (Apache-2.0) for the basic
emotions and, through its 28 fine labels, the complex states; EmoBank (CC BY-SA 4.0) for valence, arousal and
dominance. ``--dialogue`` adds MELD dev and EmoryNLP dev (Friends transcripts, research use) to the emotion head,
which fits conversational speech far better but makes the weights research-only.

Before fitting on everything it reports honest development metrics: 5-fold cross-validation on GoEmotions, folds
grouped by dialogue on MELD and by source document on EmoBank, so no dialogue or document is on both sides.
Embeddings are cached under ``$TMPDIR/empathic_text_cache`` (one pass of MiniLM per corpus).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.text.context import DialogueContext
from empathic.perception.text.embedder import MiniLMEmbedder
from empathic.perception.text.heads import VAD, TextHeads, log_softmax
from empathic.tooling.evals.metrics import classification_report, read_labels
from empathic.tooling.train import writable_output

LAYERS = (1, 2, 3, 4, 5, 6)
ALL_LAYERS = (0, 1, 2, 3, 4, 5, 6)
FOLDS = 5
EMOTION_L2 = 0.03
COMPLEX_L2 = 0.03
VAD_L2 = 1.0
CLASS_BALANCE = 0.5
"""Class weights are prior**-0.5: halfway to balanced, which lifts fear and disgust without drowning neutral."""
DIALOGUE_WEIGHT = 3.0
"""MELD rows count three times: they are few and closest to live conversation."""
CARRY, REACT = 0.2, 0.2
"""Context weights, chosen on MELD dev by grouped cross-validation (a coarse grid; larger values hurt)."""

COMPLEX_SOURCES: dict[str, tuple[str, ...]] = {
    "confusion": ("confusion",),
    "frustration": ("annoyance", "disappointment"),
    "skepticism": ("disapproval",),
    "contemplation": ("realization",),
    "interest": ("curiosity",),
}
"""GoEmotions fine labels that stand for each complex state; ``mixed`` is a positive and a negative label at once.
Boredom has no source label and stays with the cue patterns."""
POSITIVE_28 = frozenset(
    [
        "admiration",
        "amusement",
        "approval",
        "caring",
        "desire",
        "excitement",
        "gratitude",
        "joy",
        "love",
        "optimism",
        "pride",
        "relief",
    ]
)
NEGATIVE_28 = frozenset(
    [
        "anger",
        "annoyance",
        "disappointment",
        "disapproval",
        "disgust",
        "embarrassment",
        "fear",
        "grief",
        "nervousness",
        "remorse",
        "sadness",
    ]
)
EMORY_MAP = {"joyful": "happy", "mad": "angry", "scared": "fear", "sad": "sad", "neutral": "neutral"}
"""EmoryNLP feeling-wheel labels that name one of ours; peaceful and powerful do not and are left out."""


@dataclass(frozen=True, slots=True)
class Corpus:
    rows: list[dict[str, str]]
    features: np.ndarray  # (n, 384 * len(LAYERS)), unit vector per layer


def load_corpus(folder: Path, embedder: MiniLMEmbedder, cache: Path) -> Corpus:
    """Rows and MiniLM features of one corpus, embedding only on a cache miss."""
    rows = read_labels(folder)
    texts = [r["text"] for r in rows]
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = cache / f"{folder.name}-{key}.npy"
    if path.is_file():
        every = np.load(path).astype(np.float32)
    else:
        every = embedder.encode(texts, layers=ALL_LAYERS)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, every.astype(np.float16))
    cols = np.concatenate([np.arange(384 * k, 384 * (k + 1)) for k in LAYERS])
    return Corpus(rows, every[:, cols])


def fit_linear(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch L-BFGS on a linear layer: ``softmax`` (soft targets), ``sigmoid`` or ``mse``; returns (W, b)."""
    import torch

    torch.manual_seed(0)
    xt, yt, wt = (torch.tensor(a, dtype=torch.float32) for a in (x, y, w))
    layer = torch.nn.Linear(x.shape[1], y.shape[1])
    opt = torch.optim.LBFGS(layer.parameters(), max_iter=200, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        out = layer(xt)
        if loss == "softmax":
            per = -(yt * torch.log_softmax(out, 1)).sum(1)
        elif loss == "sigmoid":
            per = torch.nn.functional.binary_cross_entropy_with_logits(out, yt, reduction="none").sum(1)
        else:
            per = ((out - yt) ** 2).sum(1)
        total = (per * wt).sum() / wt.sum() + l2 * (layer.weight**2).sum()
        total.backward()
        return total

    opt.step(closure)
    return layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy()


def soft_ekman(rows: Sequence[dict[str, str]]) -> np.ndarray:
    """GoEmotions ``emotions`` (';'-separated Ekman labels) as soft targets that split the mass evenly."""
    y = np.zeros((len(rows), len(BASIC_EMOTIONS)), np.float32)
    for i, r in enumerate(rows):
        labels = [lab for lab in r["emotions"].split(";") if lab in BASIC_EMOTIONS]
        for lab in labels:
            y[i, BASIC_EMOTIONS.index(lab)] += 1.0 / len(labels)
    return y


def complex_targets(rows: Sequence[dict[str, str]]) -> np.ndarray:
    names = (*COMPLEX_SOURCES, "mixed")
    y = np.zeros((len(rows), len(names)), np.float32)
    for i, r in enumerate(rows):
        fine = set(r["labels_28"].split(";"))
        for j, sources in enumerate(COMPLEX_SOURCES.values()):
            y[i, j] = float(bool(fine & set(sources)))
        y[i, -1] = float(bool(fine & POSITIVE_28) and bool(fine & NEGATIVE_28))
    return y


def one_hot(labels: Sequence[str]) -> np.ndarray:
    return np.eye(len(BASIC_EMOTIONS), dtype=np.float32)[[BASIC_EMOTIONS.index(lab) for lab in labels]]


def class_weights(y: np.ndarray) -> np.ndarray:
    prior = y.sum(0) / y.sum()
    return np.maximum(prior, 1e-3) ** -CLASS_BALANCE


def vader_compound(texts: Sequence[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    return np.array([vader.polarity_scores(t)["compound"] for t in texts], np.float32)


def with_context(rows: Sequence[dict[str, str]], log_probs: np.ndarray) -> np.ndarray:
    """Replay dialogues in order through :class:`DialogueContext`; returns context-adjusted probabilities."""
    out = np.zeros_like(log_probs)
    context = DialogueContext(CARRY, REACT)
    for i, r in enumerate(rows):
        if i == 0 or r["dialogue_id"] != rows[i - 1]["dialogue_id"]:
            context.clear()
        out[i] = context.read(r["speaker"], log_probs[i])
        context.add(r["speaker"], log_probs[i])
    return out


class Trainer:
    """Holds the corpora, the standardisation, and fits every head."""

    def __init__(self, data: Path, dialogue: bool, embedder: MiniLMEmbedder, cache: Path) -> None:
        self.go = load_corpus(data / "goemotions", embedder, cache)
        self.eb = load_corpus(data / "emobank_vad", embedder, cache)
        both = np.concatenate([self.go.features, self.eb.features])
        self.mean = both.mean(0)
        self.scale = both.std(0) + 1e-6
        self.dialogue = dialogue
        self.meld: Corpus | None = None
        self.emory_x = np.zeros((0, self.mean.shape[0]), np.float32)
        self.emory_y = np.zeros((0, len(BASIC_EMOTIONS)), np.float32)
        if dialogue:
            self.meld = load_corpus(data / "meld_dialogue", embedder, cache)
            emory = load_corpus(data / "emorynlp_dialogue", embedder, cache)
            keep = [i for i, r in enumerate(emory.rows) if r["emotion"] in EMORY_MAP]
            self.emory_x = self.z(emory.features[keep])
            self.emory_y = one_hot([EMORY_MAP[emory.rows[i]["emotion"]] for i in keep])
        self.go_z = self.z(self.go.features)
        self.go_y = soft_ekman(self.go.rows)
        self.eb_vader = vader_compound([r["text"] for r in self.eb.rows])

    def z(self, features: np.ndarray) -> np.ndarray:
        return (features - self.mean) / self.scale

    def fit_emotion(self, go_idx: np.ndarray, meld_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emotion head on the chosen GoEmotions and MELD rows (and all of EmoryNLP when ``--dialogue``)."""
        xs = [self.go_z[go_idx], self.emory_x]
        ys = [self.go_y[go_idx], self.emory_y]
        ws = [1.0, 1.0]
        if self.meld is not None and len(meld_idx):
            xs.append(self.z(self.meld.features[meld_idx]))
            ys.append(one_hot([self.meld.rows[i]["emotion"] for i in meld_idx]))
            ws.append(DIALOGUE_WEIGHT)
        x, y = np.concatenate(xs), np.concatenate(ys)
        w = y @ class_weights(self.go_y) * np.concatenate([np.full(len(a), s) for a, s in zip(xs, ws, strict=True)])
        return fit_linear(x, y, w / w.mean(), EMOTION_L2, "softmax")

    def fit_vad(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.concatenate([self.z(self.eb.features[idx]), self.eb_vader[idx, None]], axis=1)
        y = (np.array([[float(self.eb.rows[i][k]) for k in VAD] for i in idx], np.float32) - 3.0) / 2.0
        return fit_linear(x, y, np.ones(len(idx), np.float32), VAD_L2, "mse")

    def meld_rows(self) -> list[dict[str, str]]:
        return self.meld.rows if self.meld is not None else []

    def dev_metrics(self) -> dict[str, object]:
        """Cross-validated development metrics; every fold's model never saw its test rows."""
        n_go = len(self.go.rows)
        go_fold = np.arange(n_go) % FOLDS
        go_fold = np.random.default_rng(0).permutation(go_fold)
        single = [i for i, r in enumerate(self.go.rows) if r["emotion"] in BASIC_EMOTIONS]
        pred = np.zeros((n_go, len(BASIC_EMOTIONS)), np.float32)
        meld_rows = self.meld_rows()
        all_meld = np.arange(len(meld_rows))
        for f in range(FOLDS):
            w, b = self.fit_emotion(np.flatnonzero(go_fold != f), all_meld)
            pred[go_fold == f] = self.go_z[go_fold == f] @ w + b
        go_truth = [self.go.rows[i]["emotion"] for i in single]
        go_report = classification_report(go_truth, [BASIC_EMOTIONS[k] for k in pred[single].argmax(1)], BASIC_EMOTIONS)
        eb_group = np.array([zlib.crc32(r["id"].split("_")[0].encode()) % FOLDS for r in self.eb.rows])
        vad_pred = np.zeros((len(self.eb.rows), len(VAD)), np.float32)
        for f in range(FOLDS):
            w, b = self.fit_vad(np.flatnonzero(eb_group != f))
            test = np.flatnonzero(eb_group == f)
            vad_pred[test] = np.concatenate([self.z(self.eb.features[test]), self.eb_vader[test, None]], 1) @ w + b
        truth = np.array([[float(r[k]) for k in VAD] for r in self.eb.rows])
        out: dict[str, object] = {
            "goemotions_ekman_cv5": {k: go_report[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")},
            "emobank_vad_cv5_by_document": {
                k: round(float(np.corrcoef(vad_pred[:, j], truth[:, j])[0, 1]), 4) for j, k in enumerate(VAD)
            },
            "emobank_vader_valence_r": round(float(np.corrcoef(self.eb_vader, truth[:, 0])[0, 1]), 4),
        }
        if meld_rows:
            out |= self._meld_cv(meld_rows)
        return out

    def _meld_cv(self, rows: list[dict[str, str]]) -> dict[str, object]:
        assert self.meld is not None
        dialogues = sorted({r["dialogue_id"] for r in rows})
        fold_of = {d: i % FOLDS for i, d in enumerate(np.random.default_rng(1).permutation(dialogues))}
        folds = np.array([fold_of[r["dialogue_id"]] for r in rows])
        logp = np.zeros((len(rows), len(BASIC_EMOTIONS)), np.float32)
        for f in range(FOLDS):
            w, b = self.fit_emotion(np.arange(len(self.go_z)), np.flatnonzero(folds != f))
            test = np.flatnonzero(folds == f)
            logp[test] = log_softmax(self.z(self.meld.features[test]) @ w + b)
        truth = [r["emotion"] for r in rows]
        out = {}
        for name, probs in (("alone", logp), ("context", with_context(rows, logp))):
            rep = classification_report(truth, [BASIC_EMOTIONS[k] for k in probs.argmax(1)], BASIC_EMOTIONS)
            out[f"meld_cv5_by_dialogue_{name}"] = {k: rep[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")}
        return out

    def final_heads(self) -> TextHeads:
        ew, eb = self.fit_emotion(np.arange(len(self.go_z)), np.arange(len(self.meld_rows())))
        cw, cb = fit_linear(
            self.go_z, complex_targets(self.go.rows), np.ones(len(self.go_z), np.float32), COMPLEX_L2, "sigmoid"
        )
        vw, vb = self.fit_vad(np.arange(len(self.eb.rows)))
        return TextHeads(
            layers=LAYERS,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            emotion_w=ew,
            emotion_b=eb,
            complex_names=(*COMPLEX_SOURCES, "mixed"),
            complex_w=cw,
            complex_b=cb,
            vad_w=vw,
            vad_b=vb,
            carry=CARRY,
            react=REACT,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m empathic.tooling.train.text", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the evaldata folder")
    parser.add_argument("--dialogue", action="store_true", help="also train on MELD and EmoryNLP (research use)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the .npz (never the shipped heads)")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validated development metrics")
    args = parser.parse_args(argv)
    cache = Path(tempfile.gettempdir()) / "empathic_text_cache"
    trainer = Trainer(args.data, args.dialogue, MiniLMEmbedder(), cache)
    out = writable_output(args.out)
    metrics = {} if args.no_cv else trainer.dev_metrics()
    out.parent.mkdir(parents=True, exist_ok=True)
    trainer.final_heads().save(out)
    print(json.dumps({"heads": str(out), "dev": metrics}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

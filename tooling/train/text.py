"""Train the MiniLM text heads: ``python -m empathic.tooling.train.text --data DIR --out FILE [--tune-layers N]``.

Reads the development corpora in ``DIR`` (the evaldata folder): GoEmotions (Apache-2.0) for the basic emotions and,
through its 28 fine labels, the complex states and sentiment; EmoBank (CC BY-SA 4.0) for valence, arousal and
dominance. ``--dialogue`` adds MELD dev and, as extra emotion rows, EmoryNLP dev (Friends transcripts), DailyDialog,
the opening turns of EmpatheticDialogues and ISEAR (:data:`RESEARCH_EXTRA`) to the emotion head, which fits
conversational speech far better but makes the weights research-only.

``--tune-layers N`` first fine-tunes MiniLM's top N layers with LoRA (``--rank``) on all tasks at once
(:mod:`.text_tune`) and fits the heads on the tuned features; the delta is saved inside the heads file and merged at
load. Without it the encoder stays frozen. The option ``minilm-text-heads-tuned`` is ``--tune-layers 6 --rank 16
--epochs 3`` (see the model card).

The development metrics are cross-validated (``--folds``): GoEmotions by comment, EmoBank by source document, MELD by
dialogue, so no comment, document or dialogue is on both sides; with tuning, every fold tunes its own encoder
without its test rows. ``--holdout F`` evaluates fold F only (one tuning run instead of one per fold), the same
rows for a frozen and a tuned run; with ``--out`` the written encoder and heads are those fitted without fold F, so
the reported numbers are the shipped file's own. ``--cv-only`` reports them without writing heads (to run beside a
``--no-cv`` run).
Frozen-encoder features and token states are cached under ``$TMPDIR/empathic_text_cache``. Fine-tuning runs where
``EMPATHIC_DEVICE`` says (a GPU when there is one; the CPU gives the same recipe, slower).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from empathic.perception.device import torch_device
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.registry import sha256_file
from empathic.perception.text.adapter import BASE_WEIGHTS, LoraDelta
from empathic.perception.text.context import DialogueContext
from empathic.perception.text.embedder import MiniLMEmbedder
from empathic.perception.text.heads import VAD, TextHeads, log_softmax
from empathic.tooling.evals.metrics import classification_report, read_labels
from empathic.tooling.train import writable_output
from empathic.tooling.train.text_states import token_states
from empathic.tooling.train.text_tune import EPOCHS, LR, RANK, Task, features, tune

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
EMOBANK_PARTS = 3
"""Tuning reads one EmoBank document group in this many by default (about 3000 sentences, so that GoEmotions is not
outweighed); the VAD head is still fitted and evaluated on all of EmoBank. ``--emobank-parts 1`` tunes on all of it."""
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
ED_MAP = {
    "afraid": "fear",
    "terrified": "fear",
    "angry": "angry",
    "furious": "angry",
    "annoyed": "angry",
    "sad": "sad",
    "devastated": "sad",
    "lonely": "sad",
    "joyful": "happy",
    "excited": "happy",
    "content": "happy",
    "disgusted": "disgust",
    "surprised": "surprise",
}
"""EmpatheticDialogues labels that plainly name one of ours (the other 19 mix several or none)."""
RESEARCH_EXTRA: dict[str, dict[str, str]] = {
    "emorynlp_dialogue": EMORY_MAP,
    "dailydialog": {e: e for e in BASIC_EMOTIONS},
    "isear": {e: e for e in ("angry", "disgust", "fear", "happy", "sad")},
    "empathetic_dialogues": ED_MAP,
}
"""Research corpora that only add rows to the emotion head (never evaluated here), with their label maps: ISEAR's
shame and guilt have no counterpart; EmpatheticDialogues labels a conversation by its opener's feeling, so only the
opening turn (speaker A, turn 1) carries it."""


def extra_labels(name: str, rows: Sequence[dict[str, str]]) -> tuple[np.ndarray, list[str]]:
    """Rows of research corpus ``name`` that carry one of our emotions, and those emotions."""
    mapping = RESEARCH_EXTRA[name]
    keep = [
        i
        for i, r in enumerate(rows)
        if r["emotion"] in mapping and (name != "empathetic_dialogues" or r["turn"] == "1")
    ]
    return np.array(keep, int), [mapping[rows[i]["emotion"]] for i in keep]


@dataclass(frozen=True, slots=True)
class Corpus:
    rows: list[dict[str, str]]
    features: np.ndarray  # (n, 384 * len(LAYERS)), unit vector per layer

    @classmethod
    def of(cls, rows: list[dict[str, str]], every: np.ndarray) -> Corpus:
        """From features of every layer (:data:`ALL_LAYERS`), keeping the head layers."""
        cols = np.concatenate([np.arange(384 * k, 384 * (k + 1)) for k in LAYERS])
        return cls(rows, every[:, cols].astype(np.float32))


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
    return Corpus.of(rows, every)


def frozen_corpora(data: Path, dialogue: bool, embedder: MiniLMEmbedder, cache: Path) -> dict[str, Corpus]:
    return {name: load_corpus(data / name, embedder, cache) for name in corpus_names(dialogue)}


def corpus_names(dialogue: bool) -> tuple[str, ...]:
    return ("goemotions", "emobank_vad", *(("meld_dialogue", *RESEARCH_EXTRA) if dialogue else ()))


def fit_linear(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch L-BFGS on a linear layer: ``softmax`` (soft targets), ``sigmoid`` or ``mse``; returns (W, b)."""
    import torch

    torch.manual_seed(0)
    device = torch_device()
    xt, yt, wt = (torch.tensor(a, dtype=torch.float32, device=device) for a in (x, y, w))
    layer = torch.nn.Linear(x.shape[1], y.shape[1]).to(device)
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
    return layer.weight.detach().cpu().numpy().T.copy(), layer.bias.detach().cpu().numpy().copy()


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


def go_folds(n: int, k: int) -> np.ndarray:
    """GoEmotions comments are independent posts: a seeded random fold per comment."""
    return np.random.default_rng(0).permutation(np.arange(n) % k)


def document_folds(rows: Sequence[dict[str, str]], k: int) -> np.ndarray:
    """EmoBank folds by source document (the id's first part), so no document is on both sides."""
    return np.array([zlib.crc32(r["id"].split("_")[0].encode()) % k for r in rows])


def dialogue_folds(rows: Sequence[dict[str, str]], k: int) -> np.ndarray:
    """Folds by dialogue, so no dialogue is on both sides."""
    dialogues = sorted({r["dialogue_id"] for r in rows})
    fold_of = {d: i % k for i, d in enumerate(np.random.default_rng(1).permutation(dialogues))}
    return np.array([fold_of[r["dialogue_id"]] for r in rows], int)


@functools.lru_cache(maxsize=2)
def _vader(texts: tuple[str, ...]) -> np.ndarray:
    return vader_compound(texts)


class Trainer:
    """Holds the corpora's features, the standardisation, and fits every head; ``adapter`` is the fine-tuning
    delta the features came from (shipped with the heads)."""

    def __init__(self, corpora: dict[str, Corpus], adapter: LoraDelta | None = None) -> None:
        self.go = corpora["goemotions"]
        self.eb = corpora["emobank_vad"]
        self.adapter = adapter
        both = np.concatenate([self.go.features, self.eb.features])
        self.mean = both.mean(0)
        self.scale = both.std(0) + 1e-6
        self.meld = corpora.get("meld_dialogue")
        self.extra_x = np.zeros((0, self.mean.shape[0]), np.float32)
        self.extra_y = np.zeros((0, len(BASIC_EMOTIONS)), np.float32)
        for name in RESEARCH_EXTRA:
            if name in corpora:
                keep, labels = extra_labels(name, corpora[name].rows)
                self.extra_x = np.concatenate([self.extra_x, self.z(corpora[name].features[keep])])
                self.extra_y = np.concatenate([self.extra_y, one_hot(labels)])
        self.go_z = self.z(self.go.features)
        self.go_y = soft_ekman(self.go.rows)
        self.eb_vader = _vader(tuple(r["text"] for r in self.eb.rows))

    def z(self, features: np.ndarray) -> np.ndarray:
        return (features - self.mean) / self.scale

    def fit_emotion(self, go_idx: np.ndarray, meld_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emotion head on the chosen GoEmotions and MELD rows (and the research corpora's when ``--dialogue``)."""
        xs = [self.go_z[go_idx], self.extra_x]
        ys = [self.go_y[go_idx], self.extra_y]
        ws = [1.0, 1.0]
        if self.meld is not None and len(meld_idx):
            xs.append(self.z(self.meld.features[meld_idx]))
            ys.append(one_hot([self.meld.rows[i]["emotion"] for i in meld_idx]))
            ws.append(DIALOGUE_WEIGHT)
        x, y = np.concatenate(xs), np.concatenate(ys)
        w = y @ class_weights(self.go_y) * np.concatenate([np.full(len(a), s) for a, s in zip(xs, ws, strict=True)])
        return fit_linear(x, y, w / w.mean(), EMOTION_L2, "softmax")

    def vad_x(self, idx: np.ndarray) -> np.ndarray:
        return np.concatenate([self.z(self.eb.features[idx]), self.eb_vader[idx, None]], axis=1)

    def fit_vad(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = (np.array([[float(self.eb.rows[i][k]) for k in VAD] for i in idx], np.float32) - 3.0) / 2.0
        return fit_linear(self.vad_x(idx), y, np.ones(len(idx), np.float32), VAD_L2, "mse")

    def meld_rows(self) -> list[dict[str, str]]:
        return self.meld.rows if self.meld is not None else []

    def final_heads(self, without: tuple[int, int] | None = None) -> TextHeads:
        """Heads fitted on every row, or (``without``: (f, k)) on the rows outside fold f of k of each corpus."""
        meld = self.meld_rows()
        go = np.arange(len(self.go_z))
        eb = np.arange(len(self.eb.rows))
        meld_idx = np.arange(len(meld))
        if without is not None:
            f, k = without
            go = np.flatnonzero(go_folds(len(go), k) != f)
            eb = np.flatnonzero(document_folds(self.eb.rows, k) != f)
            meld_idx = np.flatnonzero(dialogue_folds(meld, k) != f) if meld else meld_idx
        ew, eb_ = self.fit_emotion(go, meld_idx)
        cw, cb = fit_linear(
            self.go_z[go],
            complex_targets([self.go.rows[i] for i in go]),
            np.ones(len(go), np.float32),
            COMPLEX_L2,
            "sigmoid",
        )
        vw, vb = self.fit_vad(eb)
        return TextHeads(
            layers=LAYERS,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            emotion_w=ew,
            emotion_b=eb_,
            complex_names=(*COMPLEX_SOURCES, "mixed"),
            complex_w=cw,
            complex_b=cb,
            vad_w=vw,
            vad_b=vb,
            carry=CARRY,
            react=REACT,
            adapter=self.adapter,
        )


def sentiment_targets(rows: Sequence[dict[str, str]]) -> np.ndarray:
    """GoEmotions fine labels as soft negative / neutral / positive targets (ambiguous labels count as neutral)."""
    y = np.zeros((len(rows), 3), np.float32)
    for i, r in enumerate(rows):
        fine = r["labels_28"].split(";")
        for lab in fine:
            y[i, 0 if lab in NEGATIVE_28 else 2 if lab in POSITIVE_28 else 1] += 1.0 / len(fine)
    return y


SENTIMENTS = ("negative", "neutral", "positive")


class Tuner:
    """Fine-tunes the top MiniLM layers (LoRA) on the chosen rows and gives a :class:`Trainer` on the tuned features.

    The frozen layers run once per corpus (cached token states); each tuning and feature pass runs the top only."""

    def __init__(
        self,
        data: Path,
        dialogue: bool,
        cache: Path,
        tune_layers: int,
        epochs: int,
        emobank_parts: int = EMOBANK_PARTS,
        rank: int = RANK,
        lr: float = LR,
        seed: int = 0,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        folder = MiniLMEmbedder().model_dir
        self.base_sha256 = sha256_file(folder / BASE_WEIGHTS)
        self.model = AutoModel.from_pretrained(str(folder)).to(torch_device()).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.start = 6 - tune_layers
        self.epochs = epochs
        self.rank = rank
        self.lr = lr
        self.seed = seed
        self.emobank_parts = emobank_parts
        self.rows = {name: read_labels(data / name) for name in corpus_names(dialogue)}
        self.states = {
            name: token_states([r["text"] for r in rows], self.model, tokenizer, self.start, cache)
            for name, rows in self.rows.items()
        }

    def delta(self, fold: tuple[int, int] | None) -> LoraDelta:
        """A delta tuned on every row, or (``fold``: (f, k)) on the rows outside fold f of k."""
        split = {
            "goemotions": lambda rows, k: go_folds(len(rows), k),
            "emobank_vad": document_folds,
            "meld_dialogue": dialogue_folds,
        }
        train = {}
        for name, rows in self.rows.items():
            keep = np.ones(len(rows), bool)
            if fold is not None and name in split:
                keep = split[name](rows, fold[1]) != fold[0]
            if name == "emobank_vad":
                keep &= document_folds(rows, self.emobank_parts) == 0
            train[name] = np.flatnonzero(keep)
        log(f"tuning layers {self.start + 1}-6 on {', '.join(f'{n} {len(i)}' for n, i in train.items())}")
        return tune(
            self.model,
            self.start,
            self._tasks(train),
            self.base_sha256,
            epochs=self.epochs,
            rank=self.rank,
            lr=self.lr,
            seed=self.seed,
            log=log,
        )

    def _tasks(self, train: dict[str, np.ndarray]) -> list[Task]:
        go = self.rows["goemotions"]
        go_y = soft_ekman(go)
        balance = class_weights(go_y)
        eb = self.rows["emobank_vad"]
        vad = (np.array([[float(r[k]) for k in VAD] for r in eb], np.float32) - 3.0) / 2.0
        tasks = [
            Task(
                self.states["goemotions"],
                train["goemotions"],
                {
                    "emotion": (go_y, "soft"),
                    "complex": (complex_targets(go), "sigmoid"),
                    "sentiment": (sentiment_targets(go), "soft"),
                },
                go_y @ balance,
            ),
            Task(self.states["emobank_vad"], train["emobank_vad"], {"vad": (vad, "mse")}, np.ones(len(eb), np.float32)),
        ]
        if "meld_dialogue" in self.rows:
            meld = self.rows["meld_dialogue"]
            y = one_hot([r["emotion"] for r in meld])
            sentiment = np.eye(3, dtype=np.float32)[[SENTIMENTS.index(r["sentiment"]) for r in meld]]
            outputs = {"emotion": (y, "soft"), "sentiment": (sentiment, "soft")}
            tasks.append(
                Task(self.states["meld_dialogue"], train["meld_dialogue"], outputs, y @ balance, DIALOGUE_WEIGHT)
            )
            for name in RESEARCH_EXTRA:
                rows = self.rows[name]
                keep, labels = extra_labels(name, rows)
                y = np.zeros((len(rows), len(BASIC_EMOTIONS)), np.float32)
                y[keep] = one_hot(labels)
                tasks.append(Task(self.states[name], keep, {"emotion": (y, "soft")}, y @ balance))
        return tasks

    def trainer(self, delta: LoraDelta) -> Trainer:
        corpora = {
            name: Corpus.of(rows, features(self.model, self.states[name], delta)) for name, rows in self.rows.items()
        }
        return Trainer(corpora, delta)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def dev_metrics(
    trainer_for: Callable[[int], Trainer], folds: int = FOLDS, evaluated: Sequence[int] | None = None
) -> dict[str, object]:
    """Cross-validated development metrics: fold ``f`` is predicted by ``trainer_for(f)`` (features from an encoder
    tuned without fold ``f``, or the frozen encoder) with heads fitted without fold ``f``; spread across folds too.
    ``evaluated`` limits the metrics to those folds (held-out folds; default all)."""
    evaluated = list(range(folds)) if evaluated is None else list(evaluated)
    base = trainer_for(evaluated[0])
    go_fold = go_folds(len(base.go.rows), folds)
    eb_fold = document_folds(base.eb.rows, folds)
    meld_rows = base.meld_rows()
    meld_fold = dialogue_folds(meld_rows, folds) if meld_rows else np.zeros(0, int)
    go_logit = np.zeros((len(base.go.rows), len(BASIC_EMOTIONS)), np.float32)
    vad_pred = np.zeros((len(base.eb.rows), len(VAD)), np.float32)
    meld_logp = np.zeros((len(meld_rows), len(BASIC_EMOTIONS)), np.float32)
    for f in evaluated:
        t = base if f == evaluated[0] else trainer_for(f)
        w, b = t.fit_emotion(np.flatnonzero(go_fold != f), np.flatnonzero(meld_fold != f))
        go_logit[go_fold == f] = t.go_z[go_fold == f] @ w + b
        if t.meld is not None:
            meld_logp[meld_fold == f] = log_softmax(t.z(t.meld.features[meld_fold == f]) @ w + b)
        w, b = t.fit_vad(np.flatnonzero(eb_fold != f))
        vad_pred[eb_fold == f] = t.vad_x(np.flatnonzero(eb_fold == f)) @ w + b
    single = np.array([r["emotion"] in BASIC_EMOTIONS for r in base.go.rows]) & np.isin(go_fold, evaluated)
    eb_in = np.isin(eb_fold, evaluated)
    go_truth = np.array([r["emotion"] for r in base.go.rows])
    go_pred = np.array([BASIC_EMOTIONS[k] for k in go_logit.argmax(1)])
    truth = np.array([[float(r[k]) for k in VAD] for r in base.eb.rows])

    def go_f1(keep: np.ndarray) -> dict[str, float]:
        rep = classification_report(list(go_truth[keep & single]), list(go_pred[keep & single]), BASIC_EMOTIONS)
        return {k: rep[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")}

    out: dict[str, object] = {
        "folds": folds,
        "evaluated_folds": evaluated,
        "goemotions_ekman_cv": go_f1(np.ones(len(single), bool)),
        "goemotions_macro_f1_per_fold": [go_f1(go_fold == f)["macro_f1"] for f in evaluated],
        "emobank_vad_cv_by_document": {
            k: round(float(np.corrcoef(vad_pred[eb_in, j], truth[eb_in, j])[0, 1]), 4) for j, k in enumerate(VAD)
        },
        "emobank_valence_r_per_fold": [
            round(float(np.corrcoef(vad_pred[eb_fold == f, 0], truth[eb_fold == f, 0])[0, 1]), 4) for f in evaluated
        ],
        "emobank_vader_valence_r": round(float(np.corrcoef(base.eb_vader[eb_in], truth[eb_in, 0])[0, 1]), 4),
    }
    if meld_rows:
        keep = np.flatnonzero(np.isin(meld_fold, evaluated))  # whole dialogues, so the context replay is intact
        meld_rows, meld_logp, meld_fold = [meld_rows[i] for i in keep], meld_logp[keep], meld_fold[keep]
        meld_truth = [r["emotion"] for r in meld_rows]
        for name, probs in (("alone", meld_logp), ("context", with_context(meld_rows, meld_logp))):
            pred = [BASIC_EMOTIONS[k] for k in probs.argmax(1)]
            rep = classification_report(meld_truth, pred, BASIC_EMOTIONS)
            out[f"meld_cv_by_dialogue_{name}"] = {k: rep[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")}
            out[f"meld_weighted_f1_{name}_per_fold"] = [
                classification_report(
                    [t for t, g in zip(meld_truth, meld_fold, strict=True) if g == f],
                    [p for p, g in zip(pred, meld_fold, strict=True) if g == f],
                    BASIC_EMOTIONS,
                )["weighted_f1"]
                for f in evaluated
            ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m empathic.tooling.train.text", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the evaldata folder")
    parser.add_argument(
        "--dialogue", action="store_true", help="also train on MELD and the research corpora (research use)"
    )
    parser.add_argument("--out", type=Path, help="where to write the .npz (never the shipped heads)")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validated development metrics")
    parser.add_argument("--cv-only", action="store_true", help="only the development metrics; write no heads")
    parser.add_argument("--folds", type=int, default=FOLDS, help="cross-validation folds (each tunes the encoder once)")
    parser.add_argument(
        "--tune-layers", type=int, default=0, help="fine-tune MiniLM's top N layers with LoRA (0: frozen encoder)"
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="fine-tuning epochs")
    parser.add_argument("--rank", type=int, default=RANK, help="rank of the LoRA delta on every tuned linear layer")
    parser.add_argument("--lr", type=float, default=LR, help="peak fine-tuning learning rate")
    parser.add_argument("--seed", type=int, default=0, help="fine-tuning seed (initial factors, batch order)")
    parser.add_argument(
        "--holdout", type=int, nargs="+", help="evaluate only these folds (each tuned and fitted without it)"
    )
    parser.add_argument(
        "--emobank-parts", type=int, default=EMOBANK_PARTS, help="tuned runs read 1 EmoBank document group in N"
    )
    args = parser.parse_args(argv)
    if (args.out is None) != args.cv_only or (args.cv_only and args.no_cv):
        parser.error("give --out (heads to write) or --cv-only (metrics only), and not --no-cv with --cv-only")
    cache = Path(tempfile.gettempdir()) / "empathic_text_cache"
    out = None if args.cv_only else writable_output(args.out)
    without = (args.holdout[0], args.folds) if args.holdout and out else None
    if args.tune_layers:
        tuner = Tuner(
            args.data,
            args.dialogue,
            cache,
            args.tune_layers,
            args.epochs,
            args.emobank_parts,
            args.rank,
            args.lr,
            args.seed,
        )

        @functools.lru_cache(maxsize=1)
        def trainer_for(f: int) -> Trainer:
            return tuner.trainer(tuner.delta((f, args.folds)))

        final = (trainer_for(without[0]) if without else tuner.trainer(tuner.delta(None))) if out else None
    else:
        final = Trainer(frozen_corpora(args.data, args.dialogue, MiniLMEmbedder(), cache))

        def trainer_for(f: int) -> Trainer:
            return final

    if out and final:
        final.final_heads(without).save(out)
        log(f"wrote {out}" + (f" (fitted without held-out fold {without[0]} of {without[1]})" if without else ""))
    metrics = {} if args.no_cv else dev_metrics(trainer_for, args.folds, args.holdout)
    print(json.dumps({"heads": str(out) if out else None, "dev": metrics}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

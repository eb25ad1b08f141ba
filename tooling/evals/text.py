"""``empathic eval text`` and ``empathic eval vad``: a text perceiver against a labelled CSV of utterances.

With ``context`` the rows are read as dialogues (``dialogue_id``, ``turn``, ``speaker``): in turn order, history
cleared between dialogues, speakers told apart. Without it every row is read alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from empathic.perception.estimates import ModalityEstimate
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.observations import TextTurn
from empathic.perception.text.lexicon import LexiconTextPerceiver
from empathic.tooling.evals.metrics import classification_report, grouped


class TextReader(Protocol):
    name: str

    def estimate(self, turn: TextTurn) -> ModalityEstimate: ...


@runtime_checkable
class VADReader(Protocol):
    """A reader that rates valence, arousal and dominance directly, each in [-1, 1]."""

    def vad(self, text: str) -> tuple[float, float, float]: ...


@runtime_checkable
class DialogueReader(Protocol):
    """A reader that keeps dialogue history and can forget it."""

    def reset(self) -> None: ...


def _turn_key(row: dict[str, str]) -> tuple[int, str]:
    turn = row.get("turn", "").strip()
    return (int(turn), "") if turn.lstrip("-").isdigit() else (0, turn)


def _ordered(rows: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """Rows grouped by dialogue (first-seen order) and sorted by turn inside each."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r.get("dialogue_id", ""), []).append(r)
    return [r for g in groups.values() for r in sorted(g, key=_turn_key)]


def evaluate_text(
    rows: Sequence[dict[str, str]],
    perceiver: TextReader | None = None,
    by: str | None = None,
    context: bool = False,
) -> dict[str, object]:
    """Score rows with ``text`` and ``emotion``; blank labels and labels outside the basic set are excluded.

    Excluded rows are still read in context mode (they are part of the dialogue), only not scored.
    """
    perceiver = perceiver or LexiconTextPerceiver()
    if context and rows and "dialogue_id" not in rows[0]:
        raise ValueError("--context needs a dialogue_id column (and turn, speaker) in labels.csv")
    ordered = _ordered(rows) if context else list(rows)
    resettable = isinstance(perceiver, DialogueReader)
    truth, pred, kept = [], [], []
    previous = None
    start = time.perf_counter()
    for r in ordered:
        if resettable and (not context or r.get("dialogue_id") != previous):
            perceiver.reset()  # type: ignore[attr-defined]
        previous = r.get("dialogue_id")
        meta = {"speaker_id": r.get("speaker", "")} if context else {}
        est = perceiver.estimate(TextTurn(0.0, r.get("text", ""), meta=meta))
        label = r.get("emotion", "").strip()
        if label in BASIC_EMOTIONS:
            pred.append(max(est.probs, key=est.probs.__getitem__) if est.probs else "neutral")
            truth.append(label)
            kept.append(r)
    elapsed = time.perf_counter() - start
    report = classification_report(truth, pred, BASIC_EMOTIONS)
    report |= {
        "n_excluded": len(rows) - len(kept),
        "ms_per_item": round(1000 * elapsed / max(1, len(ordered)), 4),
        "model": getattr(perceiver, "heads_id", perceiver.name),
        "context": context,
    }
    if by:
        report |= grouped(truth, pred, [r.get(by, "") for r in kept], BASIC_EMOTIONS, by)
    return report


def _pearson(a: Sequence[float], b: Sequence[float]) -> float:
    x, y = np.asarray(a, float), np.asarray(b, float)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return 0.0
    return round(float(np.corrcoef(x, y)[0, 1]), 4)


def evaluate_vad(rows: Sequence[dict[str, str]], perceiver: TextReader) -> dict[str, object]:
    """Pearson r of the perceiver's valence and arousal (and dominance when it rates it) against the ratings.

    Rows whose ratings are blank or not numbers are excluded and counted.
    """
    dims = ("valence", "arousal", "dominance")
    truth: dict[str, list[float]] = {d: [] for d in dims}
    pred: dict[str, list[float]] = {d: [] for d in dims}
    n_excluded = 0
    start = time.perf_counter()
    for r in rows:
        try:
            values = [float(r.get(d, "")) for d in dims]
        except ValueError:
            n_excluded += 1
            continue
        if not all(math.isfinite(v) for v in values):
            n_excluded += 1
            continue
        if isinstance(perceiver, VADReader):
            rated: tuple[float, ...] = perceiver.vad(r.get("text", ""))
        else:
            est = perceiver.estimate(TextTurn(0.0, r.get("text", "")))
            rated = (est.valence, est.arousal)
        for d, v, p in zip(dims, values, rated, strict=False):
            truth[d].append(v)
            pred[d].append(p)
    elapsed = time.perf_counter() - start
    n = len(truth["valence"])
    return {
        "n": n,
        "n_excluded": n_excluded,
        "pearson_r": {d: _pearson(truth[d], pred[d]) for d in dims if pred[d]},
        "ms_per_item": round(1000 * elapsed / max(1, n), 4),
        "model": getattr(perceiver, "heads_id", perceiver.name),
    }

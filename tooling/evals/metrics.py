"""Metrics shared by every ``empathic eval``: one place computes accuracy, F1, recall and confusion."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def read_labels(folder: Path | str, filename: str = "labels.csv") -> list[dict[str, str]]:
    """Rows of ``labels.csv`` in ``folder`` as dicts (UTF-8, header row)."""
    path = Path(folder) / filename
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the data folder must hold a {filename}")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def classification_report(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, object]:
    """Accuracy, macro and weighted F1, per-class recall and F1, and the confusion matrix (rows: truth)."""
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    confusion = [[0] * k for _ in range(k)]
    for t, p in zip(y_true, y_pred, strict=True):
        if p in index:
            confusion[index[t]][index[p]] += 1
    n = len(y_true)
    recall: dict[str, float] = {}
    f1: dict[str, float] = {}
    support: dict[str, int] = {}
    for label, i in index.items():
        tp = confusion[i][i]
        col = sum(confusion[r][i] for r in range(k))
        support[label] = sum(1 for t in y_true if t == label)
        rec = tp / support[label] if support[label] else 0.0
        prec = tp / col if col else 0.0
        recall[label] = round(rec, 4)
        f1[label] = round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0
    present = [label for label in labels if support[label]]
    macro = sum(f1[label] for label in present) / len(present) if present else 0.0
    weighted = sum(f1[label] * support[label] for label in present) / n if n else 0.0
    correct = sum(t == p for t, p in zip(y_true, y_pred, strict=True))
    return {
        "n": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(macro, 4),
        "weighted_f1": round(weighted, 4),
        "per_class_recall": recall,
        "per_class_f1": f1,
        "labels": list(labels),
        "confusion": confusion,
    }


def breakdown(
    y_true: Sequence[str], y_pred: Sequence[str], groups: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, object]]:
    """The same report for each value of a grouping column (fairness: e.g. by speaker sex)."""
    out: dict[str, dict[str, object]] = {}
    for g in sorted(set(groups)):
        idx = [i for i, x in enumerate(groups) if x == g]
        rep = classification_report([y_true[i] for i in idx], [y_pred[i] for i in idx], labels)
        out[g] = {key: rep[key] for key in ("n", "accuracy", "macro_f1", "per_class_recall")}
    return out


def grouped(
    y_true: Sequence[str], y_pred: Sequence[str], groups: Sequence[str], labels: Sequence[str], by: str
) -> dict[str, object]:
    """What ``--by COLUMN`` adds to a report: the report per group and, with two groups or more, the accuracy's 95%
    interval over them (the spread a reader should expect on other people)."""
    out: dict[str, object] = {"by": {by: breakdown(y_true, y_pred, groups, labels)}}
    if len(set(groups)) > 1:
        correct = [t == p for t, p in zip(y_true, y_pred, strict=True)]
        out[f"accuracy_ci95_over_{by}"] = accuracy_interval(correct, groups)
    return out


def _resampled_accuracy(
    sums: dict[str, tuple[float, float]], members: Sequence[str], rng: np.random.Generator
) -> float:
    """Accuracy over a draw, with replacement, of as many units as ``members`` holds (``sums``: hits, items)."""
    drawn = rng.choice(np.asarray(members), size=len(members), replace=True)
    return sum(sums[u][0] for u in drawn) / sum(sums[u][1] for u in drawn)


def _unit_sums(correct: Sequence[bool], units: Sequence[str]) -> dict[str, tuple[float, float]]:
    hits, unit_arr = np.asarray(correct, float), np.asarray(units)
    return {u: (float(hits[unit_arr == u].sum()), float((unit_arr == u).sum())) for u in set(unit_arr)}


def accuracy_interval(
    correct: Sequence[bool], units: Sequence[str], resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% bootstrap interval of the accuracy, resampling whole units (subjects, speakers, dialogues): how much the
    number would move with other people of the same kind."""
    sums = _unit_sums(correct, units)
    members = sorted(sums)
    rng = np.random.default_rng(seed)
    draws = [_resampled_accuracy(sums, members, rng) for _ in range(resamples)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def gap_interval(
    correct: Sequence[bool], groups: Sequence[str], units: Sequence[str], resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% bootstrap interval of the accuracy gap between two groups (the first in sorted order minus the second),
    resampling whole units (speakers, subjects) within each group: with a handful of people per group, who they
    are moves the gap more than how many clips each gave."""
    names = sorted(set(groups))
    if len(names) != 2:
        raise ValueError(f"a gap needs exactly two groups, got {names}")
    sums = _unit_sums(correct, units)
    group_of = dict(zip(units, groups, strict=True))
    members = {g: sorted(u for u in sums if group_of[u] == g) for g in names}
    rng = np.random.default_rng(seed)
    gaps = [
        _resampled_accuracy(sums, members[names[0]], rng) - _resampled_accuracy(sums, members[names[1]], rng)
        for _ in range(resamples)
    ]
    low, high = np.percentile(gaps, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by how many items each holds."""
    if len(confidences) != len(correct):
        raise ValueError("confidences and correct differ in length")
    n = len(confidences)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if idx:
            acc = sum(correct[i] for i in idx) / len(idx)
            conf = sum(confidences[i] for i in idx) / len(idx)
            total += len(idx) / n * abs(acc - conf)
    return round(total, 4)

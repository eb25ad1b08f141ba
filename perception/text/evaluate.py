"""``empathic eval text``: a text perceiver against a labelled CSV of utterances."""

from __future__ import annotations

import time
from collections.abc import Sequence

from perception.evaluation import breakdown, classification_report
from perception.labels import BASIC_EMOTIONS
from perception.observations import TextTurn
from perception.text.lexicon import LexiconTextPerceiver


def evaluate_text(
    rows: Sequence[dict[str, str]], perceiver: LexiconTextPerceiver | None = None, by: str | None = None
) -> dict[str, object]:
    """Score rows with ``text`` and ``emotion``; blank labels and labels outside the basic set are excluded."""
    perceiver = perceiver or LexiconTextPerceiver()
    kept = [r for r in rows if r.get("emotion", "").strip() in BASIC_EMOTIONS]
    truth, pred = [], []
    start = time.perf_counter()
    for r in kept:
        est = perceiver.estimate(TextTurn(0.0, r.get("text", "")))
        pred.append(max(est.probs, key=est.probs.__getitem__) if est.probs else "neutral")
        truth.append(r["emotion"].strip())
    elapsed = time.perf_counter() - start
    report = classification_report(truth, pred, BASIC_EMOTIONS)
    report |= {
        "n_excluded": len(rows) - len(kept),
        "ms_per_item": round(1000 * elapsed / max(1, len(kept)), 4),
        "model": perceiver.name,
    }
    if by:
        report["by"] = {by: breakdown(truth, pred, [r.get(by, "") for r in kept], BASIC_EMOTIONS)}
    return report

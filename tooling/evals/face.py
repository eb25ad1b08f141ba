"""``empathic eval face``: the expression pipeline on a folder of face images with ``labels.csv``.

Images are pre-cropped faces (FER2013 / CK+ style 48x48 grey). Each is upscaled and meshed for action units;
the classifier reads the whole crop (its training framing) at each zoom, mirrored too, or with ``align`` the
landmark-aligned crop the live pipeline uses. When no face is found the crop is classified without geometry.
Labels outside the basic emotions (e.g. contempt) are excluded and counted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from empathic.perception.face import evidence
from empathic.perception.face.action_units import intensities, measure
from empathic.perception.face.expression import ExpressionClassifier, aligned_crop, whole_crop
from empathic.perception.face.landmarks import FaceMesher, Landmarks
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.tooling.evals.metrics import classification_report, grouped

MESH_SIDE = 192  # small crops are upscaled to this before meshing
MESH_PAD = 0.25  # and padded by this fraction of their side, so the detector sees a margin around the face


def mesh_small(mesher: FaceMesher, grey: np.ndarray) -> Landmarks | None:
    """Landmarks of a small face crop, in the crop's own pixels."""
    k = MESH_SIDE / max(grey.shape[:2])
    pad = round(MESH_SIDE * MESH_PAD)
    big = cv2.resize(grey, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    to_big = np.array([[k, 0.0, pad], [0.0, k, pad], [0.0, 0.0, 1.0]])
    return mesher.mesh_image(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB), to_big)


def read_crop(
    grey: np.ndarray,
    classifier: ExpressionClassifier,
    mesher: FaceMesher,
    *,
    zooms: Sequence[float] = (1.0, 0.9, 1.1),
    fusion_weight: float = evidence.DEFAULT_WEIGHT,
    align: bool = False,
) -> tuple[dict[str, float], bool]:
    """Expression probabilities of one pre-cropped grey face, and whether the mesh found it."""
    lm = mesh_small(mesher, grey) if fusion_weight or align else None
    if align and lm is not None:
        crops = [aligned_crop(grey, lm, z) for z in zooms]
    else:
        crops = [whole_crop(grey, z) for z in zooms]
    probs = classifier.classify(crops)
    if lm is not None:
        probs = evidence.fuse(probs, intensities(measure(lm)), fusion_weight)
    return probs, lm is not None


def evaluate_face(
    folder: Path | str,
    rows: Sequence[dict[str, str]],
    *,
    zooms: Sequence[float] = (1.0, 0.9, 1.1),
    fusion_weight: float = evidence.DEFAULT_WEIGHT,
    align: bool = False,
    by: str | None = None,
    classifier: ExpressionClassifier | None = None,
) -> dict[str, object]:
    """Accuracy, macro F1, per-class recall and confusion of the face pipeline on labelled images."""
    folder = Path(folder)
    classifier = classifier or ExpressionClassifier()
    mesher = FaceMesher(static=True)
    kept = [r for r in rows if r.get("emotion", "").strip() in BASIC_EMOTIONS]
    truth: list[str] = []
    pred: list[str] = []
    meshed = 0
    start = time.perf_counter()
    for r in kept:
        path = folder / r["path"]
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise FileNotFoundError(f"cannot read image {path}")
        probs, found = read_crop(grey, classifier, mesher, zooms=zooms, fusion_weight=fusion_weight, align=align)
        meshed += found
        pred.append(max(probs, key=probs.__getitem__))
        truth.append(r["emotion"].strip())
    elapsed = time.perf_counter() - start
    mesher.close()
    report = classification_report(truth, pred, BASIC_EMOTIONS)
    report |= {
        "n_excluded": len(rows) - len(kept),
        "n_meshed": meshed,
        "ms_per_item": round(1000 * elapsed / max(1, len(kept)), 3),
        "zooms": list(zooms),
        "fusion_weight": fusion_weight,
        "align": align,
    }
    if by:
        report |= grouped(truth, pred, [r.get(by, "") for r in kept], BASIC_EMOTIONS, by)
    return report

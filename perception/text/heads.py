"""Small trained heads over MiniLM features, stored as plain numpy arrays in one ``.npz``.

Inference needs only numpy: the training script (``python -m perception.text.train``) fits them with torch and
saves weights, the feature standardisation and the layer choice together, so a head can never be applied to
features it was not trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.text.adapter import LoraDelta

VAD = ("valence", "arousal", "dominance")


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


@dataclass(frozen=True, slots=True, eq=False)
class TextHeads:
    """Linear heads on standardised features of one utterance.

    ``emotion_*`` give logits over :data:`BASIC_EMOTIONS`; ``complex_*`` independent logits for
    ``complex_names``; ``vad_*`` valence, arousal, dominance in [-1, 1] (EmoBank's 1-5 scale, centred) from the
    features plus VADER's compound score. ``carry`` and ``react`` weigh dialogue context, tuned on dialogue data:
    how much the speaker's own recent state and the other side's last turn shift the logits (see ``context.py``).
    ``adapter`` is the fine-tuning delta of the MiniLM the features came from (None: the base model as published).
    """

    layers: tuple[int, ...]
    mean: np.ndarray
    scale: np.ndarray
    emotion_w: np.ndarray
    emotion_b: np.ndarray
    complex_names: tuple[str, ...]
    complex_w: np.ndarray
    complex_b: np.ndarray
    vad_w: np.ndarray
    vad_b: np.ndarray
    carry: float
    react: float
    adapter: LoraDelta | None = None

    def __post_init__(self) -> None:
        f = self.mean.shape[0]
        if f != 384 * len(self.layers) or self.scale.shape != (f,):
            raise ValueError(f"standardisation of {f} features does not match layers {self.layers}")
        shapes = {
            "emotion_w": (self.emotion_w.shape, (f, len(BASIC_EMOTIONS))),
            "complex_w": (self.complex_w.shape, (f, len(self.complex_names))),
            "vad_w": (self.vad_w.shape, (f + 1, len(VAD))),
        }
        for name, (got, want) in shapes.items():
            if got != want:
                raise ValueError(f"{name} has shape {got}, expected {want}")

    @classmethod
    def load(cls, path: Path | str) -> TextHeads:
        with np.load(path, allow_pickle=False) as f:
            z = {k: f[k] for k in f.files}
        return cls(
            layers=tuple(int(k) for k in z["layers"]),
            mean=z["mean"].astype(np.float32),
            scale=z["scale"].astype(np.float32),
            emotion_w=z["emotion_w"].astype(np.float32),
            emotion_b=z["emotion_b"].astype(np.float32),
            complex_names=tuple(str(s) for s in z["complex_names"]),
            complex_w=z["complex_w"].astype(np.float32),
            complex_b=z["complex_b"].astype(np.float32),
            vad_w=z["vad_w"].astype(np.float32),
            vad_b=z["vad_b"].astype(np.float32),
            carry=float(z["carry"]),
            react=float(z["react"]),
            adapter=LoraDelta.from_arrays(z),
        )

    def save(self, path: Path | str) -> None:
        """Weights as float16 (the heads lose nothing measurable and the file halves); numbers stay float32."""
        np.savez_compressed(
            path,
            layers=np.array(self.layers, np.int8),
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            emotion_w=self.emotion_w.astype(np.float16),
            emotion_b=self.emotion_b.astype(np.float32),
            complex_names=np.array(self.complex_names),
            complex_w=self.complex_w.astype(np.float16),
            complex_b=self.complex_b.astype(np.float32),
            vad_w=self.vad_w.astype(np.float16),
            vad_b=self.vad_b.astype(np.float32),
            carry=np.float32(self.carry),
            react=np.float32(self.react),
            **(self.adapter.to_arrays() if self.adapter else {}),
        )

    def standardise(self, features: np.ndarray) -> np.ndarray:
        return (features - self.mean) / self.scale

    def emotion_logits(self, z: np.ndarray) -> np.ndarray:
        """(n, 7) log-probabilities of the utterance alone, from standardised features ``z``."""
        return log_softmax(z @ self.emotion_w + self.emotion_b)

    def complex_states(self, z: np.ndarray) -> np.ndarray:
        """(n, len(complex_names)) independent probabilities."""
        return 0.5 * (1.0 + np.tanh(0.5 * (z @ self.complex_w + self.complex_b)))

    def vad(self, z: np.ndarray, vader_compound: np.ndarray) -> np.ndarray:
        """(n, 3) valence, arousal, dominance clipped to [-1, 1]; ``vader_compound`` is (n,)."""
        x = np.concatenate([z, vader_compound[:, None].astype(np.float32)], axis=1)
        return np.clip(x @ self.vad_w + self.vad_b, -1.0, 1.0)

"""Sentence embeddings from all-MiniLM-L6-v2: the shared input of every trained text head.

The model loads on first use, not at construction, so building a session stays cheap and a missing model only
matters when text actually arrives. Mean pooling over tokens and L2 normalisation reproduce what
sentence-transformers does for this model (layer 6), without depending on that package. Heads may also read
middle layers: they keep more of the wording (swear words, intensifiers) that the last layer smooths into topic,
and they come from the same forward pass at no extra cost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from empathic.perception.batching import single_threaded_models
from empathic.perception.device import torch_device
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.text.adapter import LoraDelta, adapter_digest

if TYPE_CHECKING:
    from empathic.perception.text.encoder import Encoder

MODEL_ID = "all-minilm-l6-v2"
DIM = 384
MAX_TOKENS = 128
"""Longer inputs are truncated: chat turns rarely exceed it and the cost grows with length."""


_MODELS: dict[tuple[str, str], tuple[Encoder, object]] = {}
_MODELS_LOCK = threading.Lock()


def _shared_model(folder: Path | str, adapter: LoraDelta | None = None) -> tuple[Encoder, object]:
    """One MiniLM encoder and tokenizer per process, folder and adapter, shared by every session: inference only reads
    the weights.

    An adapter is checked against the base weights' sha256 before it is merged in. Loading it sets torch to one
    thread per call (:func:`single_threaded_models`): measured on 2 cores with one other busy process, one short turn
    took 744 ms on 2 threads and 60 ms on 1. Where it runs: :mod:`.encoder`."""
    key = (str(folder), adapter_digest(adapter))
    with _MODELS_LOCK:
        if key not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            single_threaded_models()
            from empathic.perception.text import encoder
            from transformers import AutoModel, AutoTokenizer

            if adapter is not None:
                adapter.check_base(Path(folder))
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
            model = AutoModel.from_pretrained(str(folder))
            if adapter is not None:
                adapter.merge_into(model)
            _MODELS[key] = (encoder.build(model, tokenizer, Path(folder), key[1], torch_device()), tokenizer)
        return _MODELS[key]


class MiniLMEmbedder:
    """Encodes texts as unit-length 384-d vectors; thread-safe lazy loading. ``adapter`` (a fine-tuning delta
    shipped with heads) is merged into the weights on load."""

    def __init__(
        self, model_dir: Path | None = None, *, registry: ModelRegistry | None = None, adapter: LoraDelta | None = None
    ) -> None:
        self._model_dir = model_dir
        self._registry = registry
        self.adapter = adapter
        self._lock = threading.Lock()
        self._model: object | None = None
        self._tokenizer: object | None = None

    @property
    def model_dir(self) -> Path:
        """Verified model folder (raises ModelNotFound / ModelIntegrityError when unusable)."""
        if self._model_dir is None:
            self._model_dir = (self._registry or default_registry()).resolve(MODEL_ID)
        return self._model_dir

    def _load(self) -> tuple[Encoder, object]:
        with self._lock:
            if self._model is None:
                self._model, self._tokenizer = _shared_model(self.model_dir, self.adapter)
        return self._model, self._tokenizer  # type: ignore[return-value]

    def encode(self, texts: Sequence[str], layers: Sequence[int] = (6,), batch_size: int = 64) -> np.ndarray:
        """(len(texts), 384 * len(layers)) float32: per layer, the L2-normalised mean over tokens, side by side.

        Layer 0 is the token embeddings, 6 the last layer (the sentence-transformers embedding). Texts are batched
        in length order so short turns are not padded to the longest one.
        """
        if not layers or any(not 0 <= k <= 6 for k in layers):
            raise ValueError(f"layers must be a non-empty subset of 0..6, got {tuple(layers)}")
        encoder, tokenizer = self._load()
        out = np.zeros((len(texts), DIM * len(layers)), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(  # type: ignore[operator]
                [texts[i] for i in idx], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np"
            )
            pooled = encoder(batch)[list(layers)]
            pooled /= np.maximum(np.linalg.norm(pooled, axis=2, keepdims=True), 1e-12)
            out[idx] = pooled.transpose(1, 0, 2).reshape(len(idx), -1)
        return out

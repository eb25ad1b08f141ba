"""Token states below the tuned layers, computed once per corpus and cached: the frozen part of MiniLM runs once.

Fine-tuning only the top layers of MiniLM means everything below them is the same on every epoch and every fold,
so their output (per token, float16) and the mean-pooled features of the frozen layers are stored on disk and the
training loop runs only the top layers. On a shared 2-core CPU that is the difference between hours and minutes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_TOKENS = 64
"""Training inputs are truncated here: chat turns and Reddit comments rarely exceed it (EmoBank's 99th pct is 68)."""


@dataclass(frozen=True, slots=True)
class TokenStates:
    """Per-text token states entering layer ``start`` (ragged, concatenated) and pooled features of layers 0..start."""

    start: int
    states: np.ndarray  # (total tokens, 384) float16
    offsets: np.ndarray  # (n + 1,) int64: text i owns states[offsets[i]:offsets[i+1]]
    pooled: np.ndarray  # (n, 384 * (start + 1)) float32, L2-normalised per layer

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def batch(self, idx: Sequence[int], device: object = "cpu") -> tuple[object, object]:
        """(states, mask) torch tensors on ``device`` for texts ``idx``, padded to the longest."""
        import torch

        lengths = [int(self.offsets[i + 1] - self.offsets[i]) for i in idx]
        x = np.zeros((len(idx), max(lengths), self.states.shape[1]), np.float32)
        mask = np.zeros((len(idx), max(lengths)), np.float32)
        for row, (i, n) in enumerate(zip(idx, lengths, strict=True)):
            x[row, :n] = self.states[self.offsets[i] : self.offsets[i + 1]]
            mask[row, :n] = 1.0
        return torch.from_numpy(x).to(device), torch.from_numpy(mask).to(device)


def token_states(
    texts: Sequence[str], model: object, tokenizer: object, start: int, cache: Path, batch_size: int = 64
) -> TokenStates:
    """States of ``texts`` entering layer ``start`` (1-based layers; 0 = embeddings), cached by texts and layer;
    computed on the model's device."""
    import torch

    key = hashlib.sha256(f"{start}:{MAX_TOKENS}\x00".encode() + "\x00".join(texts).encode()).hexdigest()[:16]
    path = cache / f"states-{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return TokenStates(start, z["states"], z["offsets"], z["pooled"].astype(np.float32))
    pieces: list[np.ndarray] = [np.zeros((0, 384), np.float16)] * len(texts)
    pooled = np.zeros((len(texts), 384 * (start + 1)), np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    bottom = model.encoder.layer[:start]  # type: ignore[attr-defined]
    device = device_of(model)
    for begin in range(0, len(texts), batch_size):
        idx = order[begin : begin + batch_size]
        enc = tokenizer(  # type: ignore[operator]
            [texts[i] for i in idx], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        enc = {k: v.to(device) for k, v in enc.items()}
        mask = enc["attention_mask"].float()
        with torch.inference_mode():
            h = model.embeddings(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"])  # type: ignore[attr-defined]
            hidden = [h]
            additive = additive_mask(mask)
            for layer in bottom:
                h = layer_forward(layer, h, additive)
                hidden.append(h)
        pooled[idx] = np.concatenate([pool(hs, mask).cpu().numpy() for hs in hidden], axis=1)
        h, lengths = h.cpu().numpy(), mask.sum(1).int().tolist()
        for row, i in enumerate(idx):
            pieces[i] = h[row, : lengths[row]].astype(np.float16)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
    states = np.concatenate(pieces)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, states=states, offsets=offsets, pooled=pooled.astype(np.float16))
    return TokenStates(start, states, offsets, pooled)


def device_of(model: object) -> object:
    """Where ``model``'s weights are: every tensor of a training pass goes there."""
    return next(model.parameters()).device  # type: ignore[attr-defined]


def additive_mask(mask: object) -> object:
    """(batch, 1, 1, tokens) additive attention mask: 0 on tokens, a large negative on padding."""
    return (1.0 - mask)[:, None, None, :] * -1e4  # type: ignore[operator]


def layer_forward(layer: object, h: object, additive: object) -> object:
    out = layer(h, attention_mask=additive)  # type: ignore[operator]
    return out[0] if isinstance(out, tuple) else out


def pool(h: object, mask: object) -> object:
    """L2-normalised mean over the tokens ``mask`` keeps (what the embedder computes per layer)."""
    import torch
    from empathic.perception.text.encoder import masked_mean

    return torch.nn.functional.normalize(masked_mean(h, mask), p=2, dim=1)  # type: ignore[arg-type]

"""Low-rank (LoRA) deltas on MiniLM's linear layers, shipped with the heads and merged into the weights at load.

Fine-tuning the encoder helps the text heads far more than anything done on frozen embeddings, but a fine-tuned
encoder is 90 MB. A rank-r delta ``W += (alpha / r) * B @ A`` per tuned linear layer is a few hundred kB, stays
reproducible by the training command, and after merging costs nothing at inference. A delta is only valid on the
exact base weights it was trained on, so it records their sha256 and refuses any other file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from empathic.perception.errors import ModelIntegrityError
from empathic.perception.registry import sha256_file

BASE_WEIGHTS = "model.safetensors"
PREFIX = "lora/"
"""Array names of a delta inside an ``.npz`` start with this, so it can share a file with the heads."""


@dataclass(frozen=True, slots=True, eq=False)
class LoraDelta:
    """Pairs ``(A, B)`` keyed by the weight name (``encoder.layer.5.attention.self.query.weight``): A is (r, in),
    B is (out, r); ``base_sha256`` names the base weights file the delta belongs to."""

    base_sha256: str
    scale: float
    pairs: Mapping[str, tuple[np.ndarray, np.ndarray]]

    def __post_init__(self) -> None:
        for name, (a, b) in self.pairs.items():
            if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
                raise ValueError(f"LoRA pair {name} has shapes {a.shape} and {b.shape}: not (r, in) and (out, r)")

    @property
    def digest(self) -> str:
        """A short content hash: one merged model per distinct delta and process."""
        h = hashlib.sha256(f"{self.base_sha256}:{self.scale}".encode())
        for name in sorted(self.pairs):
            h.update(name.encode())
            for m in self.pairs[name]:
                h.update(np.ascontiguousarray(m, np.float32).tobytes())
        return h.hexdigest()[:16]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for ``np.savez`` (float16 factors), every name under :data:`PREFIX`."""
        out = {f"{PREFIX}base_sha256": np.array(self.base_sha256), f"{PREFIX}scale": np.float32(self.scale)}
        for name, (a, b) in self.pairs.items():
            out[f"{PREFIX}A/{name}"] = a.astype(np.float16)
            out[f"{PREFIX}B/{name}"] = b.astype(np.float16)
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> LoraDelta | None:
        """The delta stored by :meth:`to_arrays`, or None when ``arrays`` holds none."""
        if f"{PREFIX}base_sha256" not in arrays:
            return None
        names = [k.removeprefix(f"{PREFIX}A/") for k in arrays if k.startswith(f"{PREFIX}A/")]
        pairs = {
            n: (arrays[f"{PREFIX}A/{n}"].astype(np.float32), arrays[f"{PREFIX}B/{n}"].astype(np.float32)) for n in names
        }
        return cls(str(arrays[f"{PREFIX}base_sha256"]), float(arrays[f"{PREFIX}scale"]), pairs)

    def check_base(self, folder: Path) -> None:
        """Raise :class:`ModelIntegrityError` unless ``folder`` holds the base weights this delta was trained on."""
        found = sha256_file(Path(folder) / BASE_WEIGHTS)
        if found != self.base_sha256:
            raise ModelIntegrityError(
                f"text adapter was trained on {BASE_WEIGHTS} sha256 {self.base_sha256[:12]}..., but {folder} holds "
                f"{found[:12]}...: refusing to merge it into other weights (fetch the registry's all-minilm-l6-v2)"
            )

    def merge_into(self, model: object) -> None:
        """Add every delta to the named weights of the torch ``model`` in place (after :meth:`check_base`)."""
        import torch

        params = dict(model.named_parameters())  # type: ignore[attr-defined]
        missing = sorted(set(self.pairs) - set(params))
        if missing:
            raise ValueError(f"text adapter names weights the model lacks: {missing[:3]}")
        with torch.no_grad():
            for name, (a, b) in self.pairs.items():
                weight = params[name]
                if weight.shape != (b.shape[0], a.shape[1]):
                    raise ValueError(
                        f"text adapter delta for {name} is {b.shape[0]}x{a.shape[1]}, weight {tuple(weight.shape)}"
                    )
                weight += self.scale * torch.from_numpy(b @ a).to(weight.device, weight.dtype)


def adapter_digest(adapter: LoraDelta | None) -> str:
    """What tells two encoders apart: the delta's digest ("" for the base model as published)."""
    return adapter.digest if adapter is not None else ""

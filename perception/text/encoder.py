"""MiniLM's forward pass as one callable: every layer's hidden states, mean-pooled over the real tokens.

On the CPU it runs as an ONNX Runtime graph exported once from the verified (and adapter-merged) torch weights and
cached beside the model folder: measured on one core, a short chat turn took 10.5 ms there and 23.8 ms in torch
eager, with the same outputs to 6e-6. On a GPU torch runs it. Both run the same module (:class:`PooledLayers`), so
the two runtimes cannot drift apart in what they compute.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from empathic.perception.device import onnx_session
from empathic.perception.registry import derived_file, made_from

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
RECIPE = "pooled-layers-opset17-v1"
"""Part of every cached graph's name: change it when :class:`PooledLayers` or the export changes."""


class Encoder(Protocol):
    """Token ids in, (7, batch, 384) float32 out: layer 0 (the token embeddings) to 6, each mean-pooled."""

    runtime: str
    device: str

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray: ...


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(batch, tokens, dim) -> (batch, dim): the mean over the tokens ``mask`` keeps. The one pooling of a sentence,
    for serving and for training (``tooling/train``), so the heads read in use what they were fitted on."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class PooledLayers(torch.nn.Module):
    """The mean over the attention mask of each hidden state, stacked: what every text head reads from."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):
        hidden = self.model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, output_hidden_states=True
        ).hidden_states
        return torch.stack([masked_mean(h, attention_mask) for h in hidden])


class TorchEncoder:
    runtime = "torch"

    def __init__(self, model: torch.nn.Module, device: str) -> None:
        self.device = device
        self._pooled = PooledLayers(model.to(device).eval())

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        args = [torch.from_numpy(batch[k].astype(np.int64, copy=False)).to(self.device) for k in INPUTS]
        with torch.inference_mode():
            return self._pooled(*args).float().cpu().numpy()


class OnnxEncoder:
    """One onnxruntime session, one intra-op thread per call (as torch: :func:`single_threaded_models`)."""

    runtime = "onnxruntime"
    device = "cpu"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._session = onnx_session(path)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, {k: batch[k].astype(np.int64, copy=False) for k in INPUTS})[0]


def cached_graph(folder: Path, adapter_key: str) -> Path:
    """Where the graph of the weights in ``folder`` with adapter ``adapter_key`` is kept: beside the folder, named by
    what it was made from (the weights file's size and time, the adapter, torch and the export recipe)."""
    digest = made_from(folder / "model.safetensors", adapter_key, torch.__version__, RECIPE)
    return folder.parent / ".onnx" / f"{folder.name}-{digest}.onnx"


def export(model: torch.nn.Module, tokenizer: object, path: Path) -> None:
    """Write ``model``'s :class:`PooledLayers` graph to ``path``."""
    # Two lengths, so the graph is traced with padding and keeps the attention mask.
    example = tokenizer(["a turn", "and a longer one than that"], padding=True, return_tensors="pt")  # type: ignore[operator]
    with warnings.catch_warnings():  # shape checks traced as constants: the axes are declared dynamic
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", "Exporting aten::index")  # position ids: never negative
        torch.onnx.export(
            PooledLayers(model.eval()),
            tuple(example[k] for k in INPUTS),
            str(path),
            input_names=list(INPUTS),
            output_names=["pooled"],
            dynamic_axes={**{k: {0: "batch", 1: "tokens"} for k in INPUTS}, "pooled": {1: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def build(model: torch.nn.Module, tokenizer: object, folder: Path, adapter_key: str, device: str) -> Encoder:
    """ONNX Runtime on the CPU (exporting the graph on first use), torch on a GPU or where the graph cannot be
    written (a read-only models folder: logged, still correct, slower)."""
    if device != "cpu":
        return TorchEncoder(model, device)
    path = cached_graph(folder, adapter_key)
    try:
        derived_file(path, lambda tmp: export(model, tokenizer, tmp))
    except OSError as exc:
        log.warning("cannot keep the MiniLM ONNX graph at %s (%s): running it in torch, about 2x slower", path, exc)
        return TorchEncoder(model, device)
    return OnnxEncoder(path)

"""Fine-tune MiniLM's top layers with LoRA on several emotion tasks at once, over cached token states.

The tasks share the adapted layers and each has its own linear head on the mean-pooled last layer: Ekman emotions
(soft targets, class-weighted), complex states (independent sigmoids), valence / arousal / dominance regression,
sentiment. Only the LoRA factors leave
this module (as a :class:`LoraDelta`); the shipped heads are refitted on the adapted features afterwards by the
ordinary head trainer, so the run-time format stays the numpy heads plus a small delta.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from empathic.perception.text.adapter import LoraDelta
from empathic.tooling.train.text_states import TokenStates, additive_mask, device_of, layer_forward, pool

RANK = 8
ALPHA = 16.0
"""The delta's scale is ``ALPHA / rank`` whatever the rank."""
LR = 1e-3
"""AdamW's peak learning rate (linear warm-up over 50 steps, then linear decay to zero)."""
EPOCHS = 3
"""Three beat one and five on held-out GoEmotions and EmoBank rows (model card)."""
BATCH = 32
BUCKET = 32
"""Batches are drawn from shuffled windows of this many batches sorted by length: far less padding, still random."""
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")
TARGETS_FFN = ("intermediate.dense", "output.dense")


@dataclass(frozen=True, slots=True)
class Task:
    """One corpus's training signal: rows ``idx`` of ``states``; ``outputs`` maps a head name to (targets (n, k),
    loss), the loss ``soft`` (cross-entropy on soft targets), ``sigmoid`` (independent binary labels) or ``mse``.
    ``weights`` (n,) weigh rows, ``share`` the task's part of the total loss. Tasks that name the same head share it
    (emotions from several corpora)."""

    states: TokenStates
    idx: np.ndarray
    outputs: Mapping[str, tuple[np.ndarray, str]]
    weights: np.ndarray
    share: float = 1.0


def _wrap(linear: object, rank: int, alpha: float) -> object:
    """``linear`` plus a trainable low-rank path; B starts at zero, so training starts from the base model."""
    import torch

    class Lora(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            device = base.weight.device
            self.a = torch.nn.Parameter(torch.randn(rank, base.in_features, device=device) / base.in_features**0.5)
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank, device=device))
            self.scale = alpha / rank

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + self.scale * ((x @ self.a.T) @ self.b.T)

    return Lora(linear)  # type: ignore[arg-type]


def _attach(module: object, path: str, rank: int, alpha: float) -> object:
    parent_path, _, leaf = path.rpartition(".")
    parent = module.get_submodule(parent_path)  # type: ignore[attr-defined]
    wrapped = _wrap(getattr(parent, leaf), rank, alpha)
    setattr(parent, leaf, wrapped)
    return wrapped


def _detach(module: object, path: str) -> None:
    parent_path, _, leaf = path.rpartition(".")
    parent = module.get_submodule(parent_path)  # type: ignore[attr-defined]
    setattr(parent, leaf, getattr(parent, leaf).base)


def tune(
    model: object,
    start: int,
    tasks: Sequence[Task],
    base_sha256: str,
    *,
    epochs: int = EPOCHS,
    rank: int = RANK,
    lr: float = LR,
    seed: int = 0,
    log: object = None,
) -> LoraDelta:
    """Train LoRA factors on layers ``start``.. of ``model`` (left unchanged) and return them as a delta; runs on
    the model's device."""
    import torch

    torch.manual_seed(seed)
    device = device_of(model)
    rng = np.random.default_rng(seed)
    layers = list(model.encoder.layer)[start:]  # type: ignore[attr-defined]
    for p in model.parameters():  # type: ignore[attr-defined]
        p.requires_grad_(False)
    paths = [f"encoder.layer.{start + k}.{t}" for k in range(len(layers)) for t in (*TARGETS, *TARGETS_FFN)]
    wrapped = {path: _attach(model, path, rank, ALPHA) for path in paths}
    try:
        dims = {head: y.shape[1] for t in tasks for head, (y, _) in t.outputs.items()}
        heads = torch.nn.ModuleDict({h: torch.nn.Linear(384, k) for h, k in dims.items()}).to(device)
        lora = [p for w in wrapped.values() for p in (w.a, w.b)]
        opt = torch.optim.AdamW([*lora, *heads.parameters()], lr=lr, weight_decay=0.01)
        plan = [(k, chunk) for k, t in enumerate(tasks) for chunk in _batches(t.idx, t.states.offsets, rng)]
        total = epochs * len(plan)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / total))
        step = 0
        for epoch in range(epochs):
            running = 0.0
            for k in rng.permutation(len(plan)):
                task_id, chunk = plan[k]
                task = tasks[task_id]
                x, mask = task.states.batch(chunk, device)
                h = x
                additive = additive_mask(mask)
                for layer in layers:
                    h = layer_forward(layer, h, additive)
                pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
                w = torch.from_numpy(task.weights[chunk].astype(np.float32)).to(device)
                loss = torch.zeros((), device=device)
                for head, (targets, kind) in task.outputs.items():
                    out = heads[head](pooled)
                    y = torch.from_numpy(targets[chunk]).to(device)
                    per = _loss(out, y, kind)
                    loss = loss + task.share * (per * w).sum() / w.sum().clamp(min=1e-9)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                running += float(loss.detach())
                if log and step % 100 == 0:
                    log(f"epoch {epoch} step {step}/{total} loss {running / 100:.4f}")  # type: ignore[operator]
                    running = 0.0
        pairs = {
            f"{path}.weight": (w.a.detach().cpu().numpy(), w.b.detach().cpu().numpy()) for path, w in wrapped.items()
        }
    finally:
        for path in paths:
            _detach(model, path)
    return LoraDelta(base_sha256, ALPHA / rank, pairs)


def _loss(out: object, y: object, kind: str) -> object:
    """Per-row loss of one head."""
    import torch

    if kind == "soft":
        return -(y * torch.log_softmax(out, 1)).sum(1)  # type: ignore[operator]
    if kind == "sigmoid":
        return torch.nn.functional.binary_cross_entropy_with_logits(out, y, reduction="none").sum(1)
    return ((out - y) ** 2).sum(1)  # type: ignore[operator]


def _batches(idx: np.ndarray, offsets: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of ``idx`` in random order, each of texts of similar length (``offsets`` give the lengths)."""
    shuffled = rng.permutation(idx)
    lengths = np.diff(offsets)
    out = []
    for begin in range(0, len(shuffled), BATCH * BUCKET):
        window = shuffled[begin : begin + BATCH * BUCKET]
        window = window[np.argsort(lengths[window], kind="stable")]
        out.extend(window[i : i + BATCH] for i in range(0, len(window), BATCH))
    return out


def features(model: object, states: TokenStates, delta: LoraDelta | None, batch_size: int = 128) -> np.ndarray:
    """(n, 384 * 7) pooled features of layers 0..6 (what the embedder gives) with ``delta`` merged into a copy of
    the layers above ``states.start``; the frozen layers' features come from the cache. Runs on the model's device."""
    import copy

    import torch

    top = copy.deepcopy(list(model.encoder.layer)[states.start :])  # type: ignore[attr-defined]
    if delta is not None:
        shell = torch.nn.Module()
        shell.encoder = torch.nn.Module()
        shell.encoder.layer = torch.nn.ModuleList([torch.nn.Identity()] * states.start + top)
        delta.merge_into(shell)
    device = device_of(model)
    out = np.zeros((len(states), 384 * (states.start + 1 + len(top))), np.float32)
    out[:, : states.pooled.shape[1]] = states.pooled
    order = np.argsort(np.diff(states.offsets), kind="stable")  # batches of similar length: little padding
    for begin in range(0, len(states), batch_size):
        idx = order[begin : begin + batch_size].tolist()
        x, mask = states.batch(idx, device)
        hidden = []
        with torch.inference_mode():
            h = x
            additive = additive_mask(mask)
            for layer in top:
                h = layer_forward(layer, h, additive)
                hidden.append(pool(h, mask).cpu().numpy())
        out[idx, states.pooled.shape[1] :] = np.concatenate(hidden, axis=1)
    return out

"""The MiniLM encoder's two runtimes, on a tiny randomly initialised BERT (no fetched weights needed)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from empathic.perception.text import encoder
from transformers import BertConfig, BertModel, BertTokenizerFast

WORDS = [
    "i",
    "am",
    "so",
    "fed",
    "up",
    "with",
    "this",
    "order",
    "thanks",
    "that",
    "helped",
    "a",
    "lot",
    "why",
    "is",
    "it",
    "late",
    "again",
]


@pytest.fixture
def tiny(tmp_path):
    torch.manual_seed(0)
    folder = tmp_path / "models" / "tiny-bert"
    folder.mkdir(parents=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]))
    config = BertConfig(
        vocab_size=5 + len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    model = BertModel(config).eval()
    model.save_pretrained(folder)
    return model, BertTokenizerFast(vocab_file=str(vocab)), folder


def test_the_onnx_graph_computes_what_torch_does_on_a_padded_batch(tiny):
    model, tokenizer, folder = tiny
    onnx = encoder.build(model, tokenizer, folder, "base", "cpu")
    assert onnx.runtime == "onnxruntime"
    batch = tokenizer(["thanks", "why is it late again i am so fed up"], padding=True, return_tensors="np")
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()  # the short one is padded
    expected = encoder.TorchEncoder(model, "cpu")(batch)
    got = onnx(batch)
    assert got.shape == (3, 2, 32)  # token embeddings and two layers, pooled
    np.testing.assert_allclose(got, expected, atol=1e-5)
    alone = onnx(tokenizer(["thanks"], return_tensors="np"))
    np.testing.assert_allclose(alone[:, 0], got[:, 0], atol=1e-5)  # padding does not change the short turn's mean


def test_a_cached_graph_is_reused_and_a_damaged_one_exported_again(tiny):
    model, tokenizer, folder = tiny
    first = encoder.build(model, tokenizer, folder, "base", "cpu")
    path = first.path
    made = path.stat().st_mtime_ns
    assert encoder.build(model, tokenizer, folder, "base", "cpu").path.stat().st_mtime_ns == made
    assert encoder.cached_graph(folder, "other-adapter") != path  # another adapter, another graph
    with path.open("r+b") as f:
        f.seek(path.stat().st_size // 2)
        f.write(b"\x00" * 64)
    again = encoder.build(model, tokenizer, folder, "base", "cpu")
    batch = tokenizer(["so fed up"], return_tensors="np")
    np.testing.assert_allclose(again(batch), encoder.TorchEncoder(model, "cpu")(batch), atol=1e-5)


def test_torch_runs_it_where_the_graph_cannot_be_kept(tiny, caplog):
    model, tokenizer, folder = tiny
    (folder.parent / ".onnx").write_text("a file where the cache folder would be")
    with caplog.at_level(logging.WARNING):
        fallback = encoder.build(model, tokenizer, folder, "base", "cpu")
    assert fallback.runtime == "torch"
    assert "running it in torch" in caplog.text
    assert fallback(tokenizer(["thanks a lot"], return_tensors="np")).shape == (3, 1, 32)

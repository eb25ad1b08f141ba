"""The LoRA adapter load path, on a tiny random MiniLM-shaped model (no download, no evaluation data)."""

import numpy as np
import pytest
from empathic.perception.errors import ModelIntegrityError
from empathic.perception.registry import sha256_file
from empathic.perception.text.adapter import BASE_WEIGHTS, LoraDelta
from empathic.perception.text.embedder import MiniLMEmbedder
from empathic.perception.text.heads import TextHeads

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = "i am so happy sad angry today this is awful great thank you hate it love the news what ok".split()  # noqa: SIM905
TEXTS = ["i am so happy today", "this is awful", "i hate it", "thank you", "ok", "what is the news", "love it"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 6-layer, 384-wide BERT with random weights and a 24-word vocabulary, saved like the registry's MiniLM."""
    folder = tmp_path_factory.mktemp("tiny-minilm")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    transformers.BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=5 + len(WORDS), hidden_size=384, num_hidden_layers=6, num_attention_heads=2, intermediate_size=32
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(folder)
    return folder


def _delta(folder, sha=None, seed=1):
    rng = np.random.default_rng(seed)
    name = "encoder.layer.5.attention.self.value.weight"
    pair = (rng.normal(0, 0.1, (4, 384)).astype(np.float32), rng.normal(0, 0.1, (384, 4)).astype(np.float32))
    return LoraDelta(sha or sha256_file(folder / BASE_WEIGHTS), 2.0, {name: pair})


def test_a_delta_for_other_base_weights_is_refused(tiny):
    embedder = MiniLMEmbedder(tiny, adapter=_delta(tiny, sha="0" * 64))
    with pytest.raises(ModelIntegrityError, match="refusing to merge"):
        embedder.encode(["i am so happy"])


def test_the_adapter_changes_only_the_layers_it_tunes(tiny):
    base = MiniLMEmbedder(tiny).encode(TEXTS, layers=(5, 6))
    adapted = MiniLMEmbedder(tiny, adapter=_delta(tiny)).encode(TEXTS, layers=(5, 6))
    np.testing.assert_allclose(adapted[:, :384], base[:, :384], atol=1e-6)
    assert np.abs(adapted[:, 384:] - base[:, 384:]).max() > 1e-3
    again = MiniLMEmbedder(tiny).encode(TEXTS, layers=(6,))
    np.testing.assert_allclose(again, base[:, 384:], atol=1e-6)  # the shared base model was not modified


def test_a_delta_naming_missing_weights_is_refused(tiny):
    delta = _delta(tiny)
    wrong = LoraDelta(
        delta.base_sha256, 1.0, {"encoder.layer.9.output.dense.weight": delta.pairs[next(iter(delta.pairs))]}
    )
    with pytest.raises(ValueError, match="lacks"):
        MiniLMEmbedder(tiny, adapter=wrong).encode(["ok"])


def test_tuned_delta_round_trips_through_the_heads_file(tiny, tmp_path):
    """Training path (cached states + tuned top layer) and run-time path (merged weights) give the same features,
    and the heads file carries the delta unchanged."""
    from empathic.tooling.train.text_states import token_states
    from empathic.tooling.train.text_tune import Task, features, tune

    model = transformers.AutoModel.from_pretrained(str(tiny)).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny))
    states = token_states(TEXTS, model, tokenizer, 5, tmp_path / "cache")
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1, 1, 0]]
    task = Task(states, np.arange(len(TEXTS)), {"emotion": (y, "soft")}, np.ones(len(TEXTS), np.float32))
    delta = tune(model, 5, [task], sha256_file(tiny / BASE_WEIGHTS), epochs=3)
    assert len(delta.pairs) == 6 and all(np.abs(b).max() > 0 for _, b in delta.pairs.values())

    trained = features(model, states, delta)
    served = MiniLMEmbedder(tiny, adapter=delta).encode(TEXTS, layers=range(7))
    np.testing.assert_allclose(trained, served, atol=2e-2)

    f = 384 * 6
    heads = TextHeads(
        layers=(1, 2, 3, 4, 5, 6),
        mean=np.zeros(f, np.float32),
        scale=np.ones(f, np.float32),
        emotion_w=np.zeros((f, 7), np.float32),
        emotion_b=np.zeros(7, np.float32),
        complex_names=("confusion",),
        complex_w=np.zeros((f, 1), np.float32),
        complex_b=np.zeros(1, np.float32),
        vad_w=np.zeros((f + 1, 3), np.float32),
        vad_b=np.zeros(3, np.float32),
        carry=0.2,
        react=0.2,
        adapter=delta,
    )
    heads.save(tmp_path / "heads.npz")
    loaded = TextHeads.load(tmp_path / "heads.npz").adapter
    assert loaded is not None and loaded.base_sha256 == delta.base_sha256 and set(loaded.pairs) == set(delta.pairs)
    for name, (a, b) in delta.pairs.items():
        np.testing.assert_allclose(loaded.pairs[name][0], a, atol=1e-3)
        np.testing.assert_allclose(loaded.pairs[name][1], b, atol=1e-3)


def test_loading_the_encoder_runs_torch_on_one_thread_per_call(tiny, monkeypatch):
    """Two intra-op threads per call spin against each other as soon as anything else runs on a small CPU."""
    from empathic.perception.text import embedder

    monkeypatch.setattr(embedder, "_MODELS", {})  # load afresh
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        MiniLMEmbedder(tiny).encode(["thank you"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_tuning_every_layer_matches_the_merged_model(tiny, tmp_path):
    """The default encoder tunes all six layers (start 0: the cached states are the embeddings) with several heads,
    complex states among them (sigmoid); the merged model must give the training path's features."""
    from empathic.tooling.train.text_states import token_states
    from empathic.tooling.train.text_tune import Task, features, tune

    model = transformers.AutoModel.from_pretrained(str(tiny)).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny))
    states = token_states(TEXTS, model, tokenizer, 0, tmp_path / "cache")
    emotion = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1, 1, 0]]
    complex_ = np.array([[1, 0], [0, 1], [0, 1], [0, 0], [1, 1], [0, 0], [1, 0]], np.float32)
    outputs = {"emotion": (emotion, "soft"), "complex": (complex_, "sigmoid")}
    task = Task(states, np.arange(len(TEXTS)), outputs, np.ones(len(TEXTS), np.float32))
    delta = tune(model, 0, [task], sha256_file(tiny / BASE_WEIGHTS), epochs=2, rank=4)
    assert len(delta.pairs) == 36 and {a.shape[0] for a, _ in delta.pairs.values()} == {4}
    assert all(np.abs(b).max() > 0 for _, b in delta.pairs.values())

    trained = features(model, states, delta)
    served = MiniLMEmbedder(tiny, adapter=delta).encode(TEXTS, layers=range(7))
    np.testing.assert_allclose(trained, served, atol=2e-2)


def test_batches_cover_every_row_once_and_group_similar_lengths():
    from empathic.tooling.train.text_tune import BATCH, _batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 64, 3000)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    idx = np.arange(0, 3000, 2)
    batches = _batches(idx, offsets, np.random.default_rng(1))
    assert sorted(np.concatenate(batches).tolist()) == idx.tolist()
    assert max(len(b) for b in batches) == BATCH
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded < 1.2 * lengths[idx].sum()  # sorted windows: little padding
    assert batches[0].tolist() != sorted(batches[0].tolist())  # still drawn at random


def test_tuning_is_reproducible_by_seed_and_follows_the_learning_rate(tiny, tmp_path):
    """The shipped delta must be reproducible by its command: the same seed gives the same factors, another seed
    other ones, and a zero learning rate leaves the encoder as published (B stays zero)."""
    from empathic.tooling.train.text_states import token_states
    from empathic.tooling.train.text_tune import Task, tune

    model = transformers.AutoModel.from_pretrained(str(tiny)).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny))
    states = token_states(TEXTS, model, tokenizer, 4, tmp_path / "cache")
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1, 1, 0]]
    task = Task(states, np.arange(len(TEXTS)), {"emotion": (y, "soft")}, np.ones(len(TEXTS), np.float32))
    sha = sha256_file(tiny / BASE_WEIGHTS)

    def run(**kw):
        return tune(model, 4, [task], sha, epochs=2, rank=2, **kw).pairs

    first, again, other = run(seed=3), run(seed=3), run(seed=4)
    for name, (a, b) in first.items():
        np.testing.assert_array_equal(again[name][0], a)
        np.testing.assert_array_equal(again[name][1], b)
    assert any(not np.allclose(other[name][1], b) for name, (_, b) in first.items())
    assert all(np.abs(b).max() == 0 for _, b in run(lr=0.0).values())

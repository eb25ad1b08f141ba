"""Dialogue context and the numpy heads: small arrays written here, no model files."""

import numpy as np
import pytest
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.text.context import DialogueContext
from empathic.perception.text.heads import TextHeads, log_softmax

ANGRY = BASIC_EMOTIONS.index("angry")
NEUTRAL = BASIC_EMOTIONS.index("neutral")


def _logp(label: int, strength: float = 3.0) -> np.ndarray:
    z = np.zeros(len(BASIC_EMOTIONS))
    z[label] = strength
    return log_softmax(z)


def test_carry_over_pulls_towards_the_speakers_own_state():
    ctx = DialogueContext(carry=0.5, react=0.0)
    flat = log_softmax(np.zeros(len(BASIC_EMOTIONS)))
    np.testing.assert_allclose(ctx.read("a", flat), 1 / 7)
    ctx.add("a", _logp(ANGRY))
    assert ctx.read("a", flat).argmax() == ANGRY
    # another speaker does not inherit a's state
    np.testing.assert_allclose(ctx.read("b", flat), np.exp(flat))


def test_reaction_to_the_other_side_only_right_after_their_turn():
    ctx = DialogueContext(carry=0.0, react=0.5)
    flat = log_softmax(np.zeros(len(BASIC_EMOTIONS)))
    ctx.add("agent", _logp(NEUTRAL))
    assert ctx.read("user", flat).argmax() == NEUTRAL
    ctx.add("user", flat)
    np.testing.assert_allclose(ctx.read("user", flat), np.exp(flat))


def test_history_is_bounded_and_clearable():
    ctx = DialogueContext(carry=0.3, react=0.3, max_turns=3)
    for _ in range(10):
        ctx.add("a", _logp(ANGRY))
    assert len(ctx) == 3
    ctx.clear()
    assert len(ctx) == 0 and ctx.own_state("a") is None
    with pytest.raises(ValueError):
        DialogueContext(0.1, 0.1, max_turns=0)


def _heads(rng: np.random.Generator) -> TextHeads:
    f = 384 * 2
    return TextHeads(
        layers=(5, 6),
        mean=rng.normal(size=f).astype(np.float32),
        scale=np.ones(f, np.float32),
        emotion_w=rng.normal(size=(f, 7)).astype(np.float32),
        emotion_b=np.zeros(7, np.float32),
        complex_names=("confusion", "mixed"),
        complex_w=rng.normal(size=(f, 2)).astype(np.float32),
        complex_b=np.zeros(2, np.float32),
        vad_w=rng.normal(size=(f + 1, 3)).astype(np.float32),
        vad_b=np.zeros(3, np.float32),
        carry=0.2,
        react=0.1,
    )


def test_heads_round_trip_and_output_ranges(tmp_path):
    heads = _heads(np.random.default_rng(0))
    heads.save(tmp_path / "h.npz")
    loaded = TextHeads.load(tmp_path / "h.npz")
    assert loaded.layers == (5, 6) and loaded.complex_names == ("confusion", "mixed")
    assert loaded.carry == pytest.approx(0.2)
    z = loaded.standardise(np.random.default_rng(1).normal(size=(4, 768)).astype(np.float32))
    probs = np.exp(loaded.emotion_logits(z))
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert ((loaded.complex_states(z) >= 0) & (loaded.complex_states(z) <= 1)).all()
    vad = loaded.vad(z, np.zeros(4, np.float32))
    assert vad.shape == (4, 3) and np.abs(vad).max() <= 1.0


def test_heads_refuse_mismatched_shapes():
    rng = np.random.default_rng(0)
    good = _heads(rng)
    with pytest.raises(ValueError, match="emotion_w"):
        TextHeads(**{**{k: getattr(good, k) for k in good.__slots__}, "emotion_w": np.zeros((10, 7), np.float32)})

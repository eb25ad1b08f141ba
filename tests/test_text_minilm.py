"""The default MiniLM text perceiver with the committed heads (skipped where the MiniLM model is not fetched)."""

import asyncio

import pytest
from empathic.perception.batching import MicroBatcher
from empathic.perception.errors import ModelNotFound
from empathic.perception.observations import TextTurn
from empathic.perception.registry import default_registry
from empathic.perception.text.minilm import MiniLMTextPerceiver


@pytest.fixture(scope="module")
def perceiver():
    try:
        default_registry().resolve("all-minilm-l6-v2")
    except ModelNotFound:
        pytest.skip("all-minilm-l6-v2 not fetched (empathic models fetch all-minilm-l6-v2)")
    return MiniLMTextPerceiver()


def _top(est):
    return max(est.probs, key=est.probs.__getitem__)


def test_reads_basic_emotions_and_valence(perceiver):
    perceiver.reset()
    happy = perceiver.estimate(TextTurn(0.0, "Thank you so much, this is wonderful news!"))
    perceiver.reset()
    angry = perceiver.estimate(TextTurn(0.0, "This is outrageous, I am furious with your company."))
    assert _top(happy) == "happy" and _top(angry) == "angry"
    assert happy.valence > 0.2 > angry.valence
    assert abs(sum(happy.probs.values()) - 1.0) < 1e-6
    assert 0.3 <= happy.confidence <= 0.85


def test_complex_states_and_their_cues(perceiver):
    perceiver.reset()
    confused = perceiver.estimate(TextTurn(0.0, "I don't understand, what do you mean? This is confusing."))
    perceiver.reset()
    calm = perceiver.estimate(TextTurn(0.0, "The invoice was paid on Monday."))
    assert confused.complex_states["confusion"] > 0.5 > calm.complex_states.get("confusion", 0.0)
    assert any(c.name == "confusion_words" for c in confused.cues)
    perceiver.reset()
    again = perceiver.estimate(TextTurn(0.0, "It still doesn't work, I tried again for the third time."))
    assert again.complex_states["frustration"] > 0.5
    assert any(c.name == "repetition" for c in again.cues)


def test_dialogue_context_carries_the_users_state(perceiver):
    turn = TextTurn(0.0, "Okay.")
    perceiver.reset()
    alone = perceiver.estimate(turn)
    perceiver.reset()
    perceiver.estimate(TextTurn(0.0, "I am so angry, this is the worst service ever!"))
    perceiver.predict(TextTurn(1.0, "I'm sorry to hear that.", speaker="agent"))  # agent turns feed the history
    after_anger = perceiver.estimate(TextTurn(2.0, "Okay."))
    assert after_anger.probs["angry"] > alone.probs["angry"]


def test_empty_and_huge_input(perceiver):
    assert perceiver.estimate(TextTurn(0.0, "  ")).confidence == 0.0
    huge = perceiver.estimate(TextTurn(0.0, "terrible " * 50_000))
    assert abs(sum(huge.probs.values()) - 1.0) < 1e-6
    assert perceiver.predict(TextTurn(0.0, "hello", speaker="agent")) is None


def test_vad_rates_three_dimensions(perceiver):
    v, a, d = perceiver.vad("I love this, it's fantastic!")
    assert v > 0.2 and -1 <= a <= 1 and -1 <= d <= 1
    assert perceiver.vad("") == (0.0, 0.0, 0.0)


def test_sessions_share_one_model_and_one_intent_reader(perceiver):
    other = MiniLMTextPerceiver()
    for p in (perceiver, other):
        p.predict(TextTurn(1.0, "Could I speak to someone else about this?"))
    assert other.reader is perceiver.reader
    assert other.reader.embedder._load()[0] is perceiver.reader.embedder._load()[0]


def test_sessions_with_a_served_embedder_share_its_reader_too(perceiver):
    """The Ray backend gives every session of a shard the shard's embedder: they must share one reader (heads,
    intent examples embedded once, one batching worker), not build one per session that is never freed."""
    from empathic.perception.text.embedder import MiniLMEmbedder

    served, other_served = MiniLMEmbedder(), MiniLMEmbedder()
    first, second = MiniLMTextPerceiver(embedder=served), MiniLMTextPerceiver(embedder=served)
    assert first.reader is second.reader and first.reader.embedder is served
    assert MiniLMTextPerceiver(embedder=other_served).reader is not first.reader
    assert first.reader is not perceiver.reader


async def test_concurrent_sessions_are_read_in_one_batch_as_if_alone(perceiver):
    first, second = MiniLMTextPerceiver(), MiniLMTextPerceiver()
    texts = ["I'm furious, this is broken again!", "Thank you so much, that was lovely."]
    batched = await asyncio.gather(*(p.perceive(TextTurn(1.0, t)) for p, t in zip((first, second), texts, strict=True)))
    for est, text in zip(batched, texts, strict=True):
        alone = MiniLMTextPerceiver().predict(TextTurn(1.0, text))
        assert est.probs == pytest.approx(alone.probs, abs=1e-4)
        assert est.valence == pytest.approx(alone.valence, abs=1e-4)
        assert est.intents == alone.intents
    assert len(first._context) == len(second._context) == 1  # each session remembers only its own turn
    assert await first.perceive(TextTurn(2.0, "ok", speaker="agent")) is None and len(first._context) == 2


def test_batcher_serves_many_callers_and_reports_failures():
    calls = []

    def double(xs):
        calls.append(list(xs))
        if "bad" in xs:
            raise ValueError("bad item")
        return [2 * x for x in xs]

    batcher = MicroBatcher(double, max_batch=8)
    futures = [batcher.submit(k) for k in range(20)]
    assert [f.result(timeout=10) for f in futures] == [2 * k for k in range(20)]
    assert max(len(c) for c in calls) <= 8 and sum(len(c) for c in calls) == 20
    with pytest.raises(ValueError, match="bad item"):
        batcher.run_sync("bad")
    assert batcher.run_sync(4) == 8  # the worker goes on after a failed batch

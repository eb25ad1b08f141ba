"""The Hugging Face backend on a tiny randomly initialised classifier built and saved here (no hub)."""

import pytest
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.perception.observations import TextTurn
from empathic.perception.text.transformers_backend import TransformersTextConfig, TransformersTextPerceiver

WORDS = ["i", "am", "so", "happy", "angry", "what", "is", "this", "?", "!"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-emotion")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    labels = ["joy", "anger", "curiosity", "LABEL_3"]
    config = BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_labels_map_onto_basic_emotions_and_complex_states(tiny_model):
    perceiver = TransformersTextPerceiver(TransformersTextConfig(model=str(tiny_model)))
    est = perceiver.estimate(TextTurn(0.0, "what is this ?"))
    assert set(est.probs) == set(BASIC_EMOTIONS)
    assert abs(sum(est.probs.values()) - 1.0) < 1e-6
    # only joy and anger map onto basic emotions; LABEL_3 is dropped
    assert est.probs["happy"] + est.probs["angry"] == pytest.approx(1.0)
    scores = perceiver.label_scores("what is this ?")
    assert est.complex_states["interest"] == pytest.approx(scores["curiosity"], abs=1e-4)
    assert 0 < est.confidence <= 0.9
    assert any(c.name == "question" for c in est.cues)


def test_custom_map_and_multi_label(tiny_model):
    config = TransformersTextConfig(
        model=str(tiny_model), label_map={"label_3": "sad", "joy": "happy"}, multi_label=True
    )
    est = TransformersTextPerceiver(config).estimate(TextTurn(0.0, "i am so happy !"))
    assert set(k for k, v in est.probs.items() if v > 0) <= {"sad", "happy"}
    assert {k: v for k, v in est.complex_states.items() if k != "sarcasm"} == {}  # sarcasm comes from the words


def test_bad_input_and_bad_config(tiny_model):
    perceiver = TransformersTextPerceiver(TransformersTextConfig(model=str(tiny_model)))
    assert perceiver.estimate(TextTurn(0.0, "   ")).confidence == 0.0
    assert perceiver.predict(TextTurn(0.0, "hi", speaker="agent")) is None
    with pytest.raises(ValueError, match="label_map targets"):
        TransformersTextConfig(model="x", label_map={"joy": "ecstatic"})
    unmapped = TransformersTextPerceiver(TransformersTextConfig(model=str(tiny_model), label_map={"nope": "happy"}))
    with pytest.raises(ValueError, match="none of the labels"):
        unmapped.estimate(TextTurn(0.0, "i am happy"))

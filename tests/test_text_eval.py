"""``empathic eval text|vad`` and the text perceiver factory, on small CSVs written here."""

import csv
import json
import logging

import pytest
from empathic.perception.estimates import ModalityEstimate
from empathic.perception.observations import TextTurn
from empathic.perception.registry import ModelRegistry, load_catalog
from empathic.perception.text.factory import build_text_perceiver
from empathic.perception.text.lexicon import LexiconTextPerceiver
from empathic.tooling.evals.text import evaluate_text, evaluate_vad
from empathic.ui.cli import main


class Recorder:
    """Predicts the label written in the text and records the order and resets it saw."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def reset(self) -> None:
        self.seen.append(("reset", ""))

    def estimate(self, turn: TextTurn) -> ModalityEstimate:
        self.seen.append((turn.text, str(turn.meta.get("speaker_id", ""))))
        label = turn.text.split()[0]
        return ModalityEstimate("text", turn.t, {label: 1.0}, 0.0, 0.0, 1.0)

    def vad(self, text: str) -> tuple[float, float, float]:
        return (0.5, -0.5, 0.0) if "good" in text else (-0.5, 0.5, 0.1)


ROWS = [
    {"dialogue_id": "1", "turn": "1", "speaker": "B", "text": "sad two", "emotion": "sad"},
    {"dialogue_id": "1", "turn": "0", "speaker": "A", "text": "happy one", "emotion": "happy"},
    {"dialogue_id": "2", "turn": "0", "speaker": "A", "text": "angry three", "emotion": "joyful"},
    {"dialogue_id": "2", "turn": "1", "speaker": "A", "text": "neutral four", "emotion": ""},
]


def test_excluded_rows_are_counted_and_not_scored():
    report = evaluate_text(ROWS, Recorder())
    assert report["n"] == 2 and report["n_excluded"] == 2
    assert report["accuracy"] == 1.0 and report["context"] is False
    assert set(report) >= {"macro_f1", "weighted_f1", "per_class_f1", "ms_per_item"}


def test_context_reads_dialogues_in_turn_order_and_resets_between_them():
    reader = Recorder()
    evaluate_text(ROWS, reader, context=True)
    assert reader.seen == [
        ("reset", ""),
        ("happy one", "A"),
        ("sad two", "B"),
        ("reset", ""),
        ("angry three", "A"),
        ("neutral four", "A"),
    ]
    alone = Recorder()
    evaluate_text(ROWS, alone)
    assert [s for s in alone.seen if s[0] == "reset"] == [("reset", "")] * 4


def test_context_needs_dialogue_columns():
    with pytest.raises(ValueError, match="dialogue_id"):
        evaluate_text([{"text": "hi", "emotion": "happy"}], Recorder(), context=True)


def test_vad_pearson_and_exclusions():
    rows = [
        {"text": "good day", "valence": "4.5", "arousal": "2", "dominance": "3"},
        {"text": "bad day", "valence": "1.5", "arousal": "4", "dominance": "3.5"},
        {"text": "good one", "valence": "4", "arousal": "2.5", "dominance": "2.9"},
        {"text": "broken", "valence": "", "arousal": "3", "dominance": "3"},
    ]
    report = evaluate_vad(rows, Recorder())
    assert report["n"] == 3 and report["n_excluded"] == 1
    assert report["pearson_r"]["valence"] > 0.9 and report["pearson_r"]["arousal"] > 0.9
    lexicon = evaluate_vad(rows, LexiconTextPerceiver())
    assert set(lexicon["pearson_r"]) == {"valence", "arousal"}


def test_cli_eval_text_with_the_lexicon(tmp_path, capsys):
    with (tmp_path / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["dialogue_id", "turn", "speaker", "text", "emotion"])
        writer.writeheader()
        writer.writerows(ROWS)
    assert main(["eval", "text", "--data", str(tmp_path), "--text-model", "lexicon", "--context"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 2 and report["n_excluded"] == 2 and report["context"] is True


def test_factory_falls_back_to_the_lexicon_when_minilm_is_missing(tmp_path, caplog):
    registry = ModelRegistry(load_catalog(), root=tmp_path)  # an empty models folder: MiniLM not fetched
    with caplog.at_level(logging.WARNING):
        perceiver = build_text_perceiver("minilm-text-heads", registry=registry)
    assert isinstance(perceiver, LexiconTextPerceiver)
    assert "falling back" in caplog.text
    with pytest.raises(Exception, match="all-minilm-l6-v2"):
        build_text_perceiver("minilm-text-heads", registry=registry, fallback=False)
    assert isinstance(build_text_perceiver("lexicon"), LexiconTextPerceiver)

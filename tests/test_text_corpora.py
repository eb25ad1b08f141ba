"""Which rows of the research corpora reach the research file's emotion head, and with which label."""

import numpy as np
from empathic.perception.labels import BASIC_EMOTIONS
from empathic.tooling.train.text import RESEARCH_EXTRA, extra_labels


def _rows(*specs):
    return [{"emotion": e, "turn": t, "speaker": s, "text": "x"} for e, t, s in specs]


def test_empathetic_dialogues_gives_only_the_openers_labelled_turn():
    rows = _rows(("afraid", "1", "A"), ("afraid", "2", "B"), ("afraid", "3", "A"), ("prepared", "1", "A"))
    keep, labels = extra_labels("empathetic_dialogues", rows)
    assert keep.tolist() == [0] and labels == ["fear"]


def test_isear_drops_shame_and_guilt_and_keeps_the_rest_in_order():
    rows = _rows(("shame", "", ""), ("angry", "", ""), ("guilt", "", ""), ("sad", "", ""))
    keep, labels = extra_labels("isear", rows)
    assert keep.tolist() == [1, 3] and labels == ["angry", "sad"]


def test_every_research_label_map_names_our_emotions():
    for mapping in RESEARCH_EXTRA.values():
        assert set(mapping.values()) <= set(BASIC_EMOTIONS)
    keep, labels = extra_labels("emorynlp_dialogue", _rows(("peaceful", "1", "A"), ("mad", "2", "B")))
    assert np.array_equal(keep, [1]) and labels == ["angry"]

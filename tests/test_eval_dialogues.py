"""The conversation-level evaluation: checks are counted as they really came out, unknown keys are errors, and the
shipped suite uses only the vocabularies the code knows."""

import json
import re
from pathlib import Path

import pytest
import yaml
from empathic.perception import EmotionState
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES
from empathic.policies import MOVES, TONES, ToneDirective
from empathic.tooling.evals.dialogues import (
    CHECK_KIND,
    Observed,
    evaluate_dialogues,
    is_cheerful,
    load_conversation,
    load_suite,
)
from empathic.ui.cli import main

SUITE = Path(__file__).parent / "dialogues"


def write(folder: Path, name: str, conversation: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(conversation, allow_unicode=True), encoding="utf-8")
    return path


def handover(folder: Path) -> None:
    """A neutral question, then an explicit request for a person, checked both ways: one passing, one failing."""
    write(
        folder,
        "handover",
        {
            "id": "handover",
            "profile": "customer_service",
            "turns": [
                {"text": "Where is my parcel?", "expect": {"escalate": False}},
                {
                    "text": "I want to speak to a real person, please.",
                    "tags": ["handover_request"],
                    # the same directive judged twice: at most one of these can pass
                    "expect": {
                        "escalate": True,
                        "moves_none": ["escalate_to_human"],
                        "intents_any": ["handover_request"],
                    },
                },
            ],
        },
    )


def test_passing_and_failing_checks_are_counted(tmp_path):
    handover(tmp_path)
    write(
        tmp_path,
        "closing",
        {
            "id": "closing",
            "profile": "tutoring",
            "turns": [
                {"text": "Thanks, that's all for today!", "tags": ["closing"], "expect": {"reply_any": ["^$"]}},
                {"text": "bye", "expect": {"reply_not": ["^$"]}},
            ],
        },
    )
    out = evaluate_dialogues(tmp_path, text_model="lexicon")
    assert out["conversations"] == 2 and out["turns"] == 4
    # a reply is never empty: reply_any ^$ fails, reply_not ^$ passes
    assert out["checks"]["reply"] == {"passed": 1, "total": 2, "rate": 0.5}
    failed = {(f["conversation"], f["turn"], f["check"]) for f in out["failures"]}
    assert ("closing", 0, "reply_any") in failed and ("closing", 1, "reply_not") not in failed
    # escalate and moves_none on the hand-over turn contradict each other: exactly one fails
    directive = out["checks"]["directive"]
    assert directive["total"] == 3 and directive["passed"] == 2
    escalated = ("handover", 1, "escalate") not in failed
    assert escalated == (("handover", 1, "moves_none") in failed)
    assert out["handover_requests_escalated"]["total"] == 1
    assert out["handover_requests_escalated"]["passed"] == int(escalated)
    assert out["tags"]["closing"]["passed"] == 0 and out["tags"]["handover_request"]["total"] == 1
    intent = out["checks"]["intent"]
    assert intent["total"] + out["skipped"].get("intent", 0) == 1
    json.dumps(out)  # the CLI prints it


@pytest.mark.parametrize(
    ("tone", "reply", "cheerful"),
    [
        ("upbeat", "Let me check what happened.", True),
        ("playful", "Ready for something harder?", True),
        ("calm", "Great! Let me check what happened.", True),
        ("calm", "  glad to hear it.", True),
        ("calm", "I'm sorry about this. That's not great.", False),
        ("warm", "I hear you.", False),
    ],
)
def test_cheer_is_a_cheerful_tone_or_opener(tone, reply, cheerful):
    seen = Observed(EmotionState.neutral(), ToneDirective(tone=tone), reply, None)
    assert is_cheerful(seen) is cheerful


def test_sarcastic_turns_are_counted_even_without_checks(tmp_path):
    turns = [{"text": "Oh great, it broke again. Just perfect.", "tags": ["sarcasm"]}, {"text": "ok"}]
    write(tmp_path, "sarcasm", {"id": "sarcasm", "profile": "customer_service", "turns": turns})
    out = evaluate_dialogues(tmp_path, text_model="lexicon")
    assert out["sarcasm_cheer"]["total"] == 1 and out["checks"]["state"]["total"] == 0
    assert "sarcasm" not in out["tags"]  # a tag without checks is not graded


def test_cli_reads_only_the_top_folder(tmp_path, capsys):
    handover(tmp_path)
    (tmp_path / "heldout").mkdir()
    handover(tmp_path / "heldout")  # same id: reading recursively would be a duplicate-id error
    assert main(["eval", "dialogues", "--data", str(tmp_path), "--text-model", "lexicon"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["conversations"] == 1 and out["data"] == str(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expect": {"moves_anyy": ["validate"]}}, "unknown check keys"),
        ({"expect": {"moves_any": ["hug"]}}, "unknown"),
        ({"expect": {"tone_not": ["grumpy"]}}, "unknown"),
        ({"expect": {"not_dominant": ["joy"]}}, "unknown"),
        ({"expect": {"complex_any": ["sarcasm_x"]}}, "unknown"),
        ({"expect": {"valence": "bad"}}, "valence"),
        ({"expect": {"escalate": "yes"}}, "true or false"),
        ({"expect": {"reply_not": ["(unclosed"]}}, "bad regex"),
        ({"expects": {}}, "unknown turn keys"),
        ({"face": "missing.png"}, "no file"),
    ],
)
def test_bad_annotations_are_errors(tmp_path, change, message):
    path = write(tmp_path, "bad", {"id": "bad", "profile": "tutoring", "turns": [{"text": "hi", **change}]})
    with pytest.raises(ValueError, match=message):
        load_conversation(path)


def test_unknown_profile_and_duplicate_ids_are_errors(tmp_path):
    path = write(tmp_path, "a", {"id": "x", "profile": "sales", "turns": [{"text": "hi"}]})
    with pytest.raises(ValueError, match="unknown profile"):
        load_conversation(path)
    write(tmp_path, "a", {"id": "x", "profile": "tutoring", "turns": [{"text": "hi"}]})
    write(tmp_path, "b", {"id": "x", "profile": "tutoring", "turns": [{"text": "hi"}]})
    with pytest.raises(ValueError, match="duplicate"):
        load_suite(tmp_path)


@pytest.mark.parametrize("folder", [SUITE, SUITE / "heldout"], ids=["dev", "heldout"])
def test_shipped_suite_parses_with_known_vocabulary(folder):
    conversations = load_suite(folder)  # validates every key, label, move, tone and regex
    assert len(conversations) >= (70 if folder == SUITE else 15)
    vocab = {
        "moves_any": MOVES,
        "moves_none": MOVES,
        "tone_not": TONES,
        "not_dominant": BASIC_EMOTIONS,
        "complex_any": COMPLEX_STATES,
        "not_complex": COMPLEX_STATES,
    }
    for conv in conversations:
        assert conv.profile in ("customer_service", "tutoring")
        assert 3 <= len(conv.turns) <= 6, conv.id
        for turn in conv.turns:
            assert set(turn.expect) <= set(CHECK_KIND), conv.id
            for key, allowed in vocab.items():
                assert set(turn.expect.get(key, ())) <= set(allowed), (conv.id, key)
            for pattern in turn.expect.get("reply_any", []) + turn.expect.get("reply_not", []):
                re.compile(pattern)


def test_shipped_suite_is_split_and_covers_the_targets():
    dev, held = load_suite(SUITE), load_suite(SUITE / "heldout")
    assert len(dev) + len(held) >= 90 and 0.15 <= len(held) / (len(dev) + len(held)) <= 0.25
    assert not {c.id for c in dev} & {c.id for c in held}
    tags = {tag for c in dev + held for t in c.turns for tag in t.tags}
    must = {"sarcasm", "handover_request", "handover_negation", "closing", "non_english", "emoji", "empty", "long"}
    assert must <= tags
    long_turns = [t.text for c in dev + held for t in c.turns if "long" in t.tags]
    assert all(1500 <= len(text) <= 4000 for text in long_turns)

"""Scripted conversations through ``empathic run --text-file F --profile P``: the directive sequence and the turn
at which the conversation is handed to a person."""

import json
from pathlib import Path

import pytest
from empathic.ui.cli import main

SCENARIOS = Path(__file__).parent / "scenarios"


def directives(capsys, name: str, profile: str) -> list[dict]:
    assert main(["run", "--text-file", str(SCENARIOS / name), "--profile", profile]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    responses = [r for r in records if r["type"] == "response"]
    out = [r for r in records if r["type"] == "directive"]
    assert len(responses) == len(out)
    return out


def rule(directive: dict) -> str:
    return directive["reasons"][0].split(":")[0]


def escalation_turn(ds: list[dict]) -> int | None:
    return next((i + 1 for i, d in enumerate(ds) if d["escalate"]), None)


def test_angry_customer_climbs_the_ladder_then_gets_a_person(capsys):
    ds = directives(capsys, "angry_customer.txt", "customer_service")
    assert [rule(d) for d in ds] == ["no rule fired", "angry", "still_upset", "persistent_negative"]
    assert ds[1]["moves"][:2] == ["acknowledge", "apologize"] and ds[1]["verbosity"] == "brief"
    assert ds[2]["moves"][:2] == ["validate", "apologize"]
    assert escalation_turn(ds) == 4 and "escalate_to_human" in ds[3]["moves"]
    assert "furious" in ds[3]["handoff_summary"]


def test_customer_who_asks_for_a_person_is_handed_over_once(capsys):
    ds = directives(capsys, "asks_for_person.txt", "customer_service")
    assert [rule(d) for d in ds][1:] == ["asked_for_person", "already_escalated"] and not ds[0]["escalate"]
    assert escalation_turn(ds) == 2 and not ds[2]["escalate"]
    assert "real person" in ds[1]["handoff_summary"]


def test_confused_learner_gets_hints_then_encouragement_once_it_resolves(capsys):
    ds = directives(capsys, "confused_learner.txt", "tutoring")
    assert {"offer_hint", "check_understanding"} <= set(ds[1]["moves"])
    assert rule(ds[2]) == "hints_not_helping" and "offer_hint" not in ds[2]["moves"]  # two hints: walk through it
    assert rule(ds[3]) == "success" and ds[3]["moves"][0] == "celebrate"
    assert escalation_turn(ds) is None


def test_bored_learner_is_challenged(capsys):
    ds = directives(capsys, "bored_learner.txt", "tutoring")
    assert [d["moves"] for d in ds[1:]] == [["raise_challenge"], ["raise_challenge"]]
    assert all(d["tone"] == "playful" and d["verbosity"] == "brief" for d in ds[1:])


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.txt")))
def test_every_scenario_reply_realises_its_directive(capsys, name):
    profile = "tutoring" if "learner" in name else "customer_service"
    assert main(["run", "--text-file", str(SCENARIOS / name), "--profile", profile]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    pairs = zip(
        [r for r in records if r["type"] == "directive"], [r for r in records if r["type"] == "response"], strict=True
    )
    for d, r in pairs:
        if "apologize" in d["moves"]:
            assert "sorry" in r["text"].lower() or "apologize" in r["text"].lower()
        if "check_understanding" in d["moves"]:
            assert r["text"].endswith("?")

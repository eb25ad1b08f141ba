import pytest
from pydantic import ValidationError

from perception import EmotionState, TextTurn
from policies import DialogueState, Profile, load_profile, shipped_profiles


def state(probs=None, complex_states=None, valence=0.0, arousal=0.0, confidence=0.8):
    probs = probs or {"neutral": 1.0}
    return EmotionState(0.0, probs, complex_states or {}, valence, arousal, confidence)


def test_both_profiles_ship():
    assert {"customer_service", "tutoring"} <= set(shipped_profiles())


def test_asking_for_a_person_escalates_with_a_summary():
    cs = load_profile("customer_service")
    d = DialogueState().after_user_turn(TextTurn(1.0, "Can I speak to a manager please"), state())
    out = cs.decide(state(), d)
    assert out.escalate and "escalate_to_human" in out.moves
    assert "manager" in out.handoff_summary


def test_anger_gets_acknowledgement_and_apology_not_escalation():
    cs = load_profile("customer_service")
    s = state({"angry": 0.6, "neutral": 0.4}, {"frustration": 0.7}, valence=-0.6)
    d = DialogueState().after_user_turn(TextTurn(1.0, "this is broken"), s)
    out = cs.decide(s, d)
    assert out.moves[:2] == ("acknowledge", "apologize") and not out.escalate
    assert out.tone == "calm" and out.verbosity == "brief"


def test_three_negative_turns_escalate():
    cs = load_profile("customer_service")
    s = state({"angry": 0.6, "neutral": 0.4}, valence=-0.6)
    d = DialogueState()
    for i in range(3):
        d = d.after_user_turn(TextTurn(float(i), "no"), s)
        out = cs.decide(s, d)
    assert d.negative_streak == 3 and out.escalate


def test_low_confidence_anger_does_not_trigger_the_anger_rule():
    cs = load_profile("customer_service")
    s = state({"angry": 0.6, "neutral": 0.4}, confidence=0.1)
    assert "apologize" not in cs.decide(s, DialogueState()).moves


@pytest.mark.parametrize(
    ("complex_states", "move"),
    [
        ({"confusion": 0.6}, "offer_hint"),
        ({"boredom": 0.6}, "raise_challenge"),
        ({"contemplation": 0.6}, "give_time"),
        ({"frustration": 0.6}, "encourage"),
    ],
)
def test_tutoring_follows_learning_affect(complex_states, move):
    out = load_profile("tutoring").decide(state(complex_states=complex_states), DialogueState())
    assert move in out.moves


def test_contemplation_is_left_alone():
    out = load_profile("tutoring").decide(
        state(complex_states={"contemplation": 0.6, "confusion": 0.6}), DialogueState()
    )
    assert out.moves == ("give_time",)


def test_no_rule_uses_defaults_and_says_so():
    out = load_profile("customer_service").decide(state(), DialogueState())
    assert out.tone == "calm" and out.moves == () and "defaults" in out.reasons[0]


def test_profile_yaml_is_validated(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrules:\n  - name: r\n    when: {any_of: {rage: 0.5}}\n")
    with pytest.raises(ValidationError, match="rage"):
        Profile.from_yaml(bad)
    with pytest.raises(ValueError, match="unknown profile"):
        load_profile("nope")


def test_custom_profile_from_path(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text(
        "name: mine\ndefault_tone: playful\nrules:\n  - name: sad\n    when: {any_of: {sad: 0.5}}\n"
        "    moves: [validate]\n"
    )
    prof = load_profile(str(p))
    assert prof.decide(state({"sad": 1.0}), DialogueState()).moves == ("validate",)
    assert prof.decide(state(), DialogueState()).tone == "playful"


def test_dialogue_state_is_bounded_and_tracks_hints():
    from policies import ToneDirective

    d = DialogueState(max_turns=3)
    for i in range(5):
        d = d.after_user_turn(TextTurn(float(i), f"u{i}"), state())
        d = d.after_agent_turn(TextTurn(float(i), "a", "agent"), ToneDirective("warm", ("offer_hint",)))
    assert len(d.turns) == 3 and d.user_turns == 5 and d.hints_given == 5
    assert d.last_user_text() == "u4"

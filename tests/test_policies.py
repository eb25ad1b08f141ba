import pytest
from empathic.perception import EmotionState, TextTurn
from empathic.policies import DialogueState, Profile, load_profile, shipped_profiles
from pydantic import ValidationError


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
    from empathic.policies import ToneDirective

    d = DialogueState(max_turns=3)
    for i in range(5):
        d = d.after_user_turn(TextTurn(float(i), f"u{i}"), state())
        d = d.after_agent_turn(TextTurn(float(i), "a", "agent"), ToneDirective("warm", ("offer_hint",)))
    assert len(d.turns) == 3 and d.user_turns == 5 and d.hints_given == 5
    assert d.last_user_text() == "u4"


# -- every rule of the shipped profiles ----------------------------------------------------------------------------
ANGRY = state({"angry": 0.6, "neutral": 0.4}, {"frustration": 0.7}, valence=-0.6)
CALM = state()


def dialogue(*states, texts=None, agent_moves=()):
    """A dialogue after one user turn per state; ``agent_moves[i]`` are the moves of the reply after turn i."""
    from empathic.policies import ToneDirective

    d = DialogueState()
    for i, s in enumerate(states):
        d = d.after_user_turn(TextTurn(float(i), (texts or [])[i] if texts else "ok"), s)
        if i < len(agent_moves):
            d = d.after_agent_turn(TextTurn(float(i), "reply", "agent"), ToneDirective("calm", agent_moves[i]))
    return d


def first_rule(profile, s, d):
    return load_profile(profile).decide(s, d).reasons[0].split(":")[0]


@pytest.mark.parametrize(
    ("s", "d", "expected"),
    [
        (CALM, DialogueState(escalated=True, asked_for_human=True), "already_escalated"),
        (CALM, dialogue(CALM, texts=["let me speak to a supervisor"]), "asked_for_person"),
        (ANGRY, dialogue(ANGRY, ANGRY, ANGRY), "persistent_negative"),
        (
            state({"angry": 0.9, "neutral": 0.1}, {"frustration": 0.9}, valence=-0.8),
            dialogue(state({"sad": 0.6, "neutral": 0.4}, valence=-0.4), state({"angry": 0.9}, valence=-0.8)),
            "sharp_rise",
        ),
        (ANGRY, dialogue(ANGRY, ANGRY), "still_upset"),
        (ANGRY, dialogue(ANGRY), "angry"),
        (state({"sad": 0.6, "neutral": 0.4}), dialogue(CALM), "sad_or_worried"),
        (state(complex_states={"confusion": 0.6}), dialogue(CALM), "confused"),
        (state(complex_states={"skepticism": 0.6}), dialogue(CALM), "skeptical"),
        (state({"happy": 0.8, "neutral": 0.2}, valence=0.6), dialogue(CALM), "pleased"),
    ],
)
def test_customer_service_rules(s, d, expected):
    assert first_rule("customer_service", s, d) == expected


def test_sharp_rise_escalates_with_a_summary_but_a_steady_level_does_not():
    cs = load_profile("customer_service")
    mild = state({"sad": 0.6, "neutral": 0.4}, valence=-0.4)
    rising = state({"angry": 0.9, "neutral": 0.1}, valence=-0.8)
    d = dialogue(mild, rising)
    assert d.distress_rise >= 0.3 and cs.decide(rising, d).escalate and cs.decide(rising, d).handoff_summary
    assert not cs.decide(ANGRY, dialogue(ANGRY, ANGRY)).escalate


CONFUSED = state(complex_states={"confusion": 0.6})
FRUSTRATED = state(complex_states={"frustration": 0.6}, valence=-0.5)


@pytest.mark.parametrize(
    ("s", "d", "expected"),
    [
        (state(complex_states={"contemplation": 0.6}), dialogue(CALM), "contemplating"),
        (FRUSTRATED, dialogue(FRUSTRATED, FRUSTRATED, FRUSTRATED), "frustrated_for_long"),
        (state({"happy": 0.8, "neutral": 0.2}, valence=0.6), dialogue(CONFUSED, CALM), "confusion_resolved"),
        (CONFUSED, dialogue(CONFUSED, CONFUSED, agent_moves=[("offer_hint",), ("offer_hint",)]), "hints_not_helping"),
        (FRUSTRATED, dialogue(FRUSTRATED), "frustrated"),
        (CONFUSED, dialogue(CONFUSED, CONFUSED), "confused_for_long"),
        (CONFUSED, dialogue(CONFUSED), "confused"),
        (CALM, dialogue(CALM, CALM, CALM, texts=["x = 4", "I think it is 7/8.", "x = 5"]), "many_attempts"),
        (CALM, dialogue(CALM, CALM, CALM), "no rule fired"),  # turns that attempt no answer are not attempts
        (state(complex_states={"boredom": 0.6}), dialogue(CALM), "bored"),
        (state(complex_states={"interest": 0.6}), dialogue(CALM), "engaged"),
    ],
)
def test_tutoring_rules(s, d, expected):
    assert first_rule("tutoring", s, d) == expected


def test_attempts_and_hints_are_per_task():
    from empathic.policies import ToneDirective

    d = dialogue(CONFUSED, CONFUSED, texts=["x = 4", "x = 5"], agent_moves=[("offer_hint",), ("offer_hint",)])
    assert (d.attempts, d.hints_given) == (2, 2)
    d = d.after_agent_turn(TextTurn(3.0, "harder one?", "agent"), ToneDirective("playful", ("raise_challenge",)))
    assert (d.attempts, d.hints_given) == (0, 0)
    assert first_rule("tutoring", CALM, dialogue(CALM, CALM, CALM, agent_moves=[("offer_hint",)])) != "many_attempts"


def test_reasons_carry_the_evidence():
    out = load_profile("customer_service").decide(ANGRY, dialogue(ANGRY))
    assert out.reasons[0].startswith("angry: anger or frustration (")
    assert "angry 0.60>=0.3" in out.reasons[0] and "frustration 0.70>=0.5" in out.reasons[0]


def test_state_streak_and_previous_state():
    d = dialogue(CALM, CONFUSED, CONFUSED)
    assert d.state_streak("confusion") == 2 and d.state_streak("neutral") == 0
    assert d.previous_state == "confusion"
    assert DialogueState().previous_state is None and DialogueState().distress_rise == 0.0


def test_brief_has_a_word_budget_below_normal():
    from empathic.policies import ToneDirective

    assert ToneDirective("calm", verbosity="brief").max_words < ToneDirective("calm").max_words

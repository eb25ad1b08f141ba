"""Replies that fit the conversation: facts remembered, nothing asked twice, wording varied, one file per profile."""

import asyncio

import pytest
from empathic.agent import ResponseRequest, Settings, TemplateResponder, build_session
from empathic.agent.respond.checks import screen
from empathic.perception import EmotionState, TextTurn
from empathic.policies import DialogueState, ToneDirective

UPSET = EmotionState(1.0, {"angry": 0.6, "neutral": 0.4}, {"frustration": 0.6}, -0.6, 0.5, 0.7)


def request(texts, moves=("acknowledge",), profile="customer_service", agent_said=()):
    d = DialogueState()
    for i, text in enumerate(texts):
        d = d.after_user_turn(TextTurn(float(i), text), UPSET)
        if i < len(agent_said):
            d = d.after_agent_turn(TextTurn(float(i), agent_said[i], "agent"))
    return ResponseRequest(TextTurn(float(len(texts)), texts[-1]), ToneDirective("calm", moves), UPSET, d, profile)


def test_the_order_number_is_used_once_given_and_never_asked_for_again():
    first = TemplateResponder().invoke(request(["My parcel never arrived."]))
    assert "order" in first and "number" in first and first.endswith("?")
    later = TemplateResponder().invoke(request(["My parcel never arrived.", "It's order 55123.", "Any news?"]))
    assert "55123" in later and "number" not in later


def test_what_went_wrong_is_named_in_the_next_step():
    reply = TemplateResponder().invoke(request(["You charged me twice for order 88412!"]))
    assert "double charge" in reply and "88412" in reply


def test_wording_varies_when_the_same_move_comes_twice():
    said = TemplateResponder().invoke(request(["This is annoying."], ("validate",)))
    twice = request(["This is annoying.", "Still annoying."], ("validate",), agent_said=[said])
    again = TemplateResponder().invoke(twice)
    assert said.split(".")[0] != again.split(".")[0]


def test_closing_asks_nothing_new():
    reply = TemplateResponder().invoke(request(["Perfect, that's all I needed. Bye!"], ("close",)))
    assert "?" not in reply and "number" not in reply


def test_a_third_profile_is_one_yaml_file(tmp_path):
    path = tmp_path / "clinic_desk.yaml"
    path.write_text(
        "name: clinic_desk\nrole: a receptionist at a dental clinic\nperson: patient\n"
        "facts:\n  appointment: [{pattern: '(monday|tuesday|wednesday|thursday|friday)'}]\n"
        "replies:\n  next_steps:\n"
        "    - {text: 'I will move your {appointment} appointment.', needs: [appointment]}\n"
        "    - {text: 'Which day is your appointment?', unless: [appointment]}\n"
        "rules:\n  - {name: upset, when: {valence_below: -0.2}, tone: warm, moves: [apologize]}\n",
        encoding="utf-8",
    )
    session = build_session(Settings(profile=str(path), text_model="lexicon"))
    texts = []
    for i, text in enumerate(["I need to change my appointment.", "It is on Thursday, sorry."]):
        events = asyncio.run(session.process(TextTurn(float(i * 4), text)))
        texts += [e.text for e in events if e.type == "response"]
    assert texts[0].endswith("Which day is your appointment?")
    assert "Thursday appointment" in texts[1] and "order" not in " ".join(texts)


def test_a_profile_naming_an_undeclared_fact_is_refused(tmp_path):
    from empathic.policies import load_profile

    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nreplies: {next_steps: [{text: 'About {ticket}.'}]}\nrules: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="undeclared facts"):
        load_profile(str(path))


@pytest.mark.parametrize(
    ("sentence", "rule"),
    [
        ("I'm so sorry for your loss.", "condolence"),
        ("The user wants to know about the refund.", "third_person"),
        ("You mean 'received', not 'recieved'.", "grammar_correction"),
        ("The charges are 23.60 each.", "invented_number"),
    ],
)
def test_the_screen_drops_what_small_models_invent(sentence, rule):
    assert screen(sentence, "I was charged 59.90 twice for order 1234") == rule


def test_numbers_from_the_conversation_pass_the_screen():
    assert screen("I see the 59.90 charge on order 1234.", "I was charged 59.90 twice for order 1234") is None

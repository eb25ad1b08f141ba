import re

import pytest
from empathic.agent import ResponseRequest, TemplateResponder
from empathic.perception import EmotionState, TextTurn
from empathic.policies import MOVES, DialogueState, ToneDirective


def request(moves, verbosity="normal", profile="customer_service", tone="calm"):
    return ResponseRequest(
        TextTurn(1.0, "hello"),
        ToneDirective(tone, tuple(moves), verbosity),
        EmotionState.neutral(1.0),
        DialogueState(),
        profile,
    )


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def test_apology_when_asked():
    out = TemplateResponder().invoke(request(["apologize"]))
    assert re.search(r"\b(sorry|apologi[sz]e)\b", out, re.I)
    assert not re.search(r"\b(sorry|apologi[sz]e)\b", TemplateResponder().invoke(request([])), re.I)


def test_check_understanding_ends_with_a_question():
    assert TemplateResponder().invoke(request(["acknowledge", "check_understanding"])).endswith("?")


def test_brief_replies_respect_the_sentence_limit():
    out = TemplateResponder().invoke(request(["acknowledge", "apologize", "reassure", "validate"], "brief"))
    assert len(sentences(out)) <= 2


@pytest.mark.parametrize("move", MOVES)
def test_every_move_is_realised(move):
    out = TemplateResponder().invoke(request([move], "detailed"))
    assert len(out) > 10


async def test_stream_joins_to_invoke():
    r = request(["acknowledge", "offer_hint"], profile="tutoring")
    chunks = [c async for c in TemplateResponder().astream(r)]
    assert len(chunks) > 3 and "".join(chunks) == TemplateResponder().invoke(r)

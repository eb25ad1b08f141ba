"""Channels in conflict: a smile over angry words is evidence (politeness, masking, sarcasm), not a winning vote."""

import numpy as np
import pytest
from empathic.agent import build_session
from empathic.agent.session.settings import Settings
from empathic.perception import ModalityEstimate, TextTurn, VideoFrame
from empathic.perception.text.factory import build_text_perceiver

from empathic.testing import ScriptedPerceiver

SMILE = ModalityEstimate("face", 0.0, {"happy": 0.94, "neutral": 0.06}, 0.8, 0.4, 0.9, source="scripted-face")
COMPLAINT = "This is the third time I'm asking. Nobody answers my emails and I'm fed up!"


def session_with_a_smiling_face():
    session = build_session(Settings(profile="customer_service", face=False, body=False, text_model="lexicon"))
    session.perceivers = [ScriptedPerceiver([(0.0, SMILE)], name="smiling-face"), build_text_perceiver("lexicon")]
    return session


async def conversation(words: str):
    session = session_with_a_smiling_face()
    frame = np.zeros((48, 48, 3), np.uint8)
    for i in range(40):  # four seconds of a steady smile before the words
        await session.process(VideoFrame(i / 10, frame))
    return await session.process(TextTurn(4.0, words))


async def test_angry_words_outweigh_a_steady_smile_and_the_conflict_is_reported():
    events = await conversation(COMPLAINT)
    state = next(e.state for e in events if e.type == "state")
    directive = next(e.directive for e in events if e.type == "directive")
    reply = next(e.text for e in events if e.type == "response")
    assert state.dominant != "happy" and state.valence < 0
    assert "Face disagrees with what was said" in state.explanation
    assert directive.tone not in ("upbeat", "playful") and not reply.lower().startswith(("great", "nice"))


@pytest.mark.parametrize("words", ["Thanks, that's lovely, it arrived this morning!"])
async def test_agreeing_channels_report_no_conflict(words):
    events = await conversation(words)
    state = next(e.state for e in events if e.type == "state")
    assert state.valence > 0 and "disagree" not in state.explanation

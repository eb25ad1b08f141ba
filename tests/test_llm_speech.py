"""A spoken LLM reply: each sentence is checked, then spoken while the model is still writing the next; a sentence
that fails the checks ends the reply there, and the history holds what was said. Typed replies stay as they were."""

import asyncio
import re
from typing import Any

from empathic.agent import AgentSession
from empathic.agent.respond.llm import LLMResponder
from empathic.agent.speech import SentenceSplitter, SpeechOutput
from empathic.perception import TextTurn
from empathic.perception.text import LexiconTextPerceiver
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from pydantic import Field

from empathic.testing import ManualClock, ToneSpeaker

ORDER = "My order still hasn't arrived and this is ridiculous."
GOOD = "I'm sorry about the wait. I will check your order right now."
TURN_END = re.compile(r"[.!?]\s$")


class Paced(GenericFakeChatModel):
    """Streams its reply word by word; once the first sentence is followed by a space it waits (up to 2 s) for
    ``resume``, and records whether that came in time."""

    resume: Any = None
    waited: list[bool] = Field(default_factory=list)

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        written = ""
        for chunk in self._stream(messages, stop, None, **kwargs):
            written += chunk.text
            yield chunk
            if not self.waited and TURN_END.search(written):
                try:
                    await asyncio.wait_for(self.resume.wait(), 2.0)
                    self.waited.append(True)
                except TimeoutError:
                    self.waited.append(False)


def paced(reply: str) -> Paced:
    return Paced(messages=iter([AIMessage(reply)]), resume=asyncio.Event())


def session(model: Paced, speak: bool = True) -> AgentSession:
    """A session answering with ``model``; spoken, the model resumes at the first reply audio, typed at once."""
    s = AgentSession(
        perceivers=[LexiconTextPerceiver()],
        responder=LLMResponder(model),
        clock=ManualClock(),
        speech=SpeechOutput(ToneSpeaker()) if speak else None,
    )
    s.subscribe(lambda e: model.resume.set() if e.type == "speech_audio" else None)
    if not speak:
        model.resume.set()
    return s


def test_whole_sentence_chunks_end_at_the_chunk_but_not_at_an_abbreviation():
    whole, tokens = SentenceSplitter(whole_sentences=True), SentenceSplitter()
    assert whole.feed("I hear you.") == ["I hear you."] and tokens.feed("I hear you.") == []
    assert whole.feed(" Dr.") == [] and whole.feed(" Smith will call at 3.30 today!") == [
        "Dr. Smith will call at 3.30 today!"
    ]


async def test_the_first_checked_sentence_is_spoken_while_the_model_writes_on():
    model = paced(GOOD)
    s = session(model)
    events = await s.process(TextTurn(1.0, ORDER))
    assert model.waited == [True]  # audio came out before the model wrote its second sentence
    reply = next(e for e in events if e.type == "response")
    assert reply.responder == "llm" and not reply.fallback and reply.text.startswith(GOOD)
    first_audio = next(i for i, e in enumerate(events) if e.type == "speech_audio")
    assert first_audio < next(i for i, e in enumerate(events) if e.type == "response")
    stop = s.interrupt(60.0)[0]
    assert not stop.interrupted and stop.heard == reply.text
    assert [t.text for t in s.dialogue.turns if t.speaker == "agent"] == [reply.text]


async def test_a_failing_sentence_ends_the_spoken_reply_and_the_history_holds_what_was_said():
    bad = "I'm sorry about the wait. As an AI language model I cannot see orders. I will check it now."
    texts = {}
    for speak in (True, False):
        s = session(paced(bad), speak)
        events = await s.process(TextTurn(1.0, ORDER))
        reply = next(e for e in events if e.type == "response")
        assert reply.responder == "llm" and not reply.fallback
        assert reply.text.startswith("I'm sorry about the wait.") and "language model" not in reply.text
        assert "check it now" not in reply.text  # nothing after the failing sentence
        if speak:
            assert s.interrupt(60.0)[0].heard == reply.text
        assert [t.text for t in s.dialogue.turns if t.speaker == "agent"] == [reply.text]
        texts[speak] = reply.text
    assert texts[True] == texts[False]  # typed and spoken replies are the same words


async def test_a_reply_whose_first_sentence_fails_is_the_template_spoken_or_typed():
    texts = {}
    for speak in (True, False):
        s = session(paced("As an AI language model I cannot see orders. I will check it now."), speak)
        events = await s.process(TextTurn(1.0, ORDER))
        reply = next(e for e in events if e.type == "response")
        assert reply.fallback and reply.responder == "template" and "language model" not in reply.text
        assert any(e.type == "error" and "role_break" in e.error for e in events)
        if speak:
            assert s.interrupt(60.0)[0].heard == reply.text
        texts[speak] = reply.text
    assert texts[True] == texts[False]

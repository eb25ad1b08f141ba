"""The LLM responder: ``prompt | chat model | parser`` for any LangChain ``BaseChatModel``, gated by checks.

The model's tokens stream into a :class:`ReplyGate` that releases whole sentences, each screened for the safety
rules before anyone sees it, and stops the model at the directive's length limit. Moves the model missed are
borrowed from the template (an apology goes first, a question or the hand-over last); a reply with no usable
sentence becomes the template reply. Model errors and first-token timeouts raise, so the session falls back.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

from empathic.agent.respond.checks import (
    ReplyCheck,
    ReplyStats,
    check_reply,
    missing_moves,
    on_topic,
    screen,
    word_count,
)
from empathic.agent.respond.prompting import PROMPT, prompt_inputs
from empathic.agent.respond.template import (
    ResponseRequest,
    body_sentence,
    move_sentence,
    user_texts,
)
from empathic.perception import EmotionState, EmpathicError
from empathic.policies.moves import APOLOGY
from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableConfig

_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")
_END_MOVES = ("escalate_to_human", "check_understanding", "close")
EMOTION_EVENT = "emotion_state"


class ReplyRejected(EmpathicError):
    """Nothing the model wrote passed the screen: the session answers with the template, marked as a fallback."""

    retryable = True


CHECK_EVENT = "reply_check"


def emotion_payload(state: EmotionState) -> dict[str, Any]:
    """The state a tracer or UI sees as the ``emotion_state`` custom event."""
    return {
        "t": state.t,
        "dominant": state.dominant,
        "complex": state.top_complex(),
        "valence": state.valence,
        "arousal": state.arousal,
        "confidence": state.confidence,
        "explanation": state.explanation,
    }


class ReplyGate:
    """Turns the model's token stream into released sentences that satisfy the directive."""

    def __init__(self, request: ResponseRequest) -> None:
        self.request = request
        self.directive = request.directive
        self.topic_words = request.domain.topic_words
        agent_said = [t.text for t in request.dialogue.turns if t.speaker == "agent"]
        self.conversation = " ".join([*user_texts(request), *agent_said])
        self.rejected: list[str] = []
        self.buffer = ""
        self.own: list[str] = []
        self.released: list[str] = []
        self.from_model = 0
        self.borrowed = 0
        self.cut = False
        self.done = False

    def feed(self, chunk: str) -> list[str]:
        """Add model text; returns the sentences it completed that may be shown."""
        self.buffer += chunk
        out: list[str] = []
        while not self.done and (m := _BOUNDARY.search(self.buffer)):
            sentence, self.buffer = self.buffer[: m.end()].strip(), self.buffer[m.end() :]
            out += self._take(sentence)
        return self._join(out)

    def finish(self) -> list[str]:
        """The model stopped: release its last sentence if it is finished, then borrow what is still missing.

        Returns nothing when no sentence of the model passed: the responder then raises :class:`ReplyRejected`."""
        tail = " ".join(self.buffer.split())
        finished = bool(tail) and tail[-1] in ".!?" and word_count(tail) >= 2
        out = self._take(tail) if not self.done and finished else []
        self.done = True
        if not self.from_model:
            return []
        text = " ".join(self.released)
        extra: list[str] = []
        if "give_time" not in self.directive.moves and not on_topic(text, self.request.turn.text, self.topic_words):
            body = body_sentence(self.request)
            extra += [body] if self._room([body]) else []
        extra += [move_sentence(m, self.request) for m in missing_moves(text, self.directive) if m in _END_MOVES]
        self.released += extra
        self.borrowed += len(extra)
        return self._join(out + extra)

    def raise_if_rejected(self) -> None:
        if not self.from_model:
            raise ReplyRejected(f"no usable sentence from the model (screened: {', '.join(self.rejected) or 'none'})")

    @property
    def action(self) -> str:
        return "template" if not self.from_model else "combined" if self.borrowed else "llm"

    def check(self) -> ReplyCheck:
        return check_reply(
            " ".join(self.own), self.directive, self.request.turn.text, self.topic_words, self.cut, self.conversation
        )

    def _take(self, sentence: str) -> list[str]:
        self.own.append(sentence)
        if broken := screen(sentence, self.conversation):
            self.rejected.append(broken)
            self.done = True
            return []
        needs_apology = "apologize" in self.directive.moves and not self.released and not APOLOGY.search(sentence)
        before = [move_sentence("apologize", self.request)] if needs_apology else []
        if not self._room([*before, sentence]):
            self.cut = self.done = True
            return []
        self.released += [*before, sentence]
        self.borrowed += len(before)
        self.from_model += 1
        return [*before, sentence]

    def _room(self, extra: list[str]) -> bool:
        """Whether ``extra`` fits in the length limit, keeping room for the end moves not yet realised."""
        planned = [*self.released, *extra]
        missing = missing_moves(" ".join(planned), self.directive)
        planned += [move_sentence(m, self.request) for m in missing if m in _END_MOVES]
        d = self.directive
        return len(planned) <= d.max_sentences and word_count(" ".join(planned)) <= d.max_words

    def _join(self, pieces: list[str]) -> list[str]:
        """Spaces between sentences, so the chunks concatenate to the reply."""
        shown = len(self.released) - len(pieces)
        return [p if shown + i == 0 else " " + p for i, p in enumerate(pieces)]


class LLMResponder(Runnable[ResponseRequest, str]):
    """Replies written by a chat model, in the directive's tone, with the checks of :class:`ReplyGate`.

    ``config`` (callbacks, tags, tracing) reaches the model; the emotion state and each reply's check are
    dispatched as custom events. ``memory_turns`` bounds the earlier turns sent; ``first_token_timeout_s``
    bounds the wait for the model's first token (async only), after which the session's fallback answers.
    """

    name: str = "llm"
    whole_sentences: bool = True
    """Each streamed chunk is one checked sentence (the gate's release), so a voice may speak it at once."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        memory_turns: int = 2,
        first_token_timeout_s: float | None = None,
        stats: ReplyStats | None = None,
    ) -> None:
        self.model = model
        self.chain: Runnable[dict[str, Any], str] = PROMPT | model | StrOutputParser()
        self.memory_turns = memory_turns
        self.first_token_timeout_s = first_token_timeout_s
        self.stats = stats or ReplyStats()

    def invoke(self, input: ResponseRequest, config: RunnableConfig | None = None, **kwargs: Any) -> str:
        return "".join(self.stream(input, config))

    def stream(self, input: ResponseRequest, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[str]:
        yield from self._transform_stream_with_config(iter([input]), self._reply, config)

    async def astream(
        self, input: ResponseRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        async def one() -> AsyncIterator[ResponseRequest]:
            yield input

        async for chunk in self._atransform_stream_with_config(one(), self._areply, config):
            yield chunk

    def _reply(self, inputs: Iterator[ResponseRequest], config: RunnableConfig) -> Iterator[str]:
        request = next(inputs)
        dispatch_custom_event(EMOTION_EVENT, emotion_payload(request.state), config=config)
        gate = ReplyGate(request)
        for chunk in self.chain.stream(prompt_inputs(request, self.memory_turns), config):
            yield from gate.feed(chunk)
            if gate.done:
                break
        tail = gate.finish()
        dispatch_custom_event(CHECK_EVENT, self._record(gate), config=config)
        gate.raise_if_rejected()
        yield from tail

    async def _areply(self, inputs: AsyncIterator[ResponseRequest], config: RunnableConfig) -> AsyncIterator[str]:
        request = await anext(inputs)
        await adispatch_custom_event(EMOTION_EVENT, emotion_payload(request.state), config=config)
        gate = ReplyGate(request)
        async with aclosing(self.chain.astream(prompt_inputs(request, self.memory_turns), config)) as tokens:
            chunk = await self._first(tokens)
            while chunk is not None:
                for piece in gate.feed(chunk):
                    yield piece
                if gate.done:
                    break
                chunk = await anext(tokens, None)
        tail = gate.finish()
        await adispatch_custom_event(CHECK_EVENT, self._record(gate), config=config)
        gate.raise_if_rejected()
        for piece in tail:
            yield piece

    async def _first(self, tokens: AsyncIterator[str]) -> str | None:
        if self.first_token_timeout_s is None:
            return await anext(tokens, None)
        try:
            return await asyncio.wait_for(anext(tokens, None), self.first_token_timeout_s)
        except TimeoutError:
            raise TimeoutError(f"no token from the chat model within {self.first_token_timeout_s} s") from None

    def _record(self, gate: ReplyGate) -> dict[str, Any]:
        check = gate.check()
        self.stats.record(check, gate.action)
        return {"missed": list(check.missed), "action": gate.action, "model_text": " ".join(gate.own)}

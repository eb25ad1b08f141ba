"""Responders turn a user turn, the emotion state and a tone directive into a reply.

A responder is a LangChain ``Runnable[ResponseRequest, str]`` whose ``astream`` yields text chunks, so it composes
with chains, callbacks and tracing. :class:`TemplateResponder` realises every empathy move deterministically: it is
the no-LLM mode and the fallback when a chat model fails or times out.

A template reply follows the conversation: the profile's facts (an order number, what went wrong, the subject)
are read from everything the person said, the next step refers to them and never asks for one already given, and a
sentence the agent said in its last turn is not said again when another variant exists.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from empathic.perception import EmotionState, TextTurn
from empathic.policies import MOVE_TABLE, TONE_TABLE, DialogueState, Profile, ToneDirective, load_profile
from langchain_core.runnables import Runnable, RunnableConfig


@dataclass(frozen=True, slots=True)
class ResponseRequest:
    """Everything a responder may use to answer one user turn."""

    turn: TextTurn
    directive: ToneDirective
    state: EmotionState
    dialogue: DialogueState
    profile: Profile | str = "customer_service"
    """The session's own profile object, or the name or YAML path of one."""

    @property
    def domain(self) -> Profile:
        """The profile whose role, person word, facts and lines the reply uses."""
        return self.profile if isinstance(self.profile, Profile) else profile_for(self.profile)


@lru_cache(maxsize=32)
def profile_for(name: str) -> Profile:
    """A profile by name or path, cached: requests that name one read its lines and words on every turn."""
    return load_profile(name)


def _said_by_agent(dialogue: DialogueState) -> set[str]:
    last = next((t.text for t in reversed(dialogue.turns) if t.speaker == "agent"), "")
    return {s.strip() for s in re.split(r"(?<=[.!?])\s+", last) if s.strip()}


def pick(variants: Sequence[str], request: ResponseRequest) -> str:
    """A variant that rotates with the turn number and skips what the agent said in its last turn."""
    said = _said_by_agent(request.dialogue)
    n = len(variants)
    start = request.dialogue.user_turns % n
    ordered = [variants[(start + i) % n] for i in range(n)]
    return next((v for v in ordered if v not in said), ordered[0])


def move_sentence(move: str, request: ResponseRequest) -> str:
    """The template's sentence for one move on this turn; LLM responders borrow it when the model missed the move."""
    lines = request.domain.replies.move_lines.get(move) or MOVE_TABLE[move].lines
    return pick(lines, request)


def user_texts(request: ResponseRequest) -> list[str]:
    texts = [t.text for t in request.dialogue.turns if t.speaker == "user"]
    return texts if texts and texts[-1] == request.turn.text else [*texts, request.turn.text]


def body_sentence(request: ResponseRequest) -> str:
    """A concrete next step that uses what the person already told us and never asks for it again."""
    profile = request.domain
    facts = profile.facts_in(user_texts(request))
    steps = profile.replies.steps_for(facts)
    return pick([s.text.format(**facts) for s in steps], request) if steps else ""


def realise(request: ResponseRequest) -> str:
    """The template reply: opening moves, the next step, closing moves (a question or hand-over last), in budget."""
    d = request.directive
    specs = [MOVE_TABLE[m] for m in d.moves]
    opening = [move_sentence(s.name, request) for s in specs if s.position == "open"]
    closing = [move_sentence(s.name, request) for s in specs if s.position == "close"]
    step = [] if any(s.replaces_next_step for s in specs) else [body_sentence(request)]
    sentences = [s for s in (*opening, *step) if s]
    room = max(d.max_sentences - len(closing), 1)
    sentences = [*sentences[:room], *closing][: max(d.max_sentences, len(closing))]
    return TONE_TABLE[d.tone].opener + " ".join(sentences)


class TemplateResponder(Runnable[ResponseRequest, str]):
    """Deterministic replies that realise every empathy move; no model, microseconds per turn."""

    name: str = "template"

    def invoke(self, input: ResponseRequest, config: RunnableConfig | None = None, **kwargs: Any) -> str:
        return realise(input)

    def stream(self, input: ResponseRequest, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[str]:
        yield from _chunks(realise(input))

    async def astream(
        self, input: ResponseRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        for chunk in _chunks(realise(input)):
            yield chunk


def _chunks(text: str) -> list[str]:
    """Word-sized pieces that join back to ``text``, as a streaming model would send them."""
    return re.findall(r"\S+\s*", text)

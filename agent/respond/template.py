"""Responders turn a user turn, the emotion state and a tone directive into a reply.

A responder is a LangChain ``Runnable[ResponseRequest, str]`` whose ``astream`` yields text chunks, so it composes
with chains, callbacks and tracing. :class:`TemplateResponder` realises every empathy move deterministically: it is
the no-LLM mode and the fallback when a chat model fails or times out.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from empathic.perception import EmotionState, TextTurn
from empathic.policies import DialogueState, ToneDirective
from langchain_core.runnables import Runnable, RunnableConfig


@dataclass(frozen=True, slots=True)
class ResponseRequest:
    """Everything a responder may use to answer one user turn."""

    turn: TextTurn
    directive: ToneDirective
    state: EmotionState
    dialogue: DialogueState
    profile: str = "customer_service"


# One entry per empathy move; variants rotate with the turn number so repeated moves do not read the same.
_MOVES: dict[str, tuple[str, ...]] = {
    "acknowledge": ("I hear you.", "I understand what you're telling me.", "Thanks for explaining that."),
    "validate": ("That's a completely fair reaction.", "Anyone would feel the same in your place."),
    "apologize": (
        "I'm sorry about this.",
        "I'm sorry for the trouble this has caused.",
        "I apologise for that.",
    ),
    "reassure": (
        "We'll get this sorted out.",
        "You're in the right place, and I'll stay with this until it's fixed.",
    ),
    "encourage": (
        "You're closer than you think.",
        "Good effort so far, keep going.",
        "You're making real progress.",
    ),
    "simplify": ("Let me put it more simply.", "Let's take it one small step at a time."),
    "offer_hint": (
        "Here's a hint: start from what you already know and change one thing at a time.",
        "A hint: write down what the question gives you before you try to solve it.",
    ),
    "check_understanding": ("Does that make sense so far?", "Is that clearer now?"),
    "give_time": ("Take your time, I'm here when you're ready.",),
    "raise_challenge": (
        "You've got this down; want to try a harder one?",
        "Ready for something more challenging?",
    ),
    "suggest_break": ("It might help to take a short break and come back to this fresh.",),
    "escalate_to_human": (
        "I'm bringing in a member of our team who can take this further; "
        "I've passed on a summary so you won't need to repeat yourself.",
    ),
}

_BODY: dict[str, tuple[str, ...]] = {
    "customer_service": (
        "Could you share your order or account number so I can look into it?",
        "Let me check what happened and what I can do about it.",
    ),
    "tutoring": ("Let's work through it together.", "Tell me how you approached it so far."),
}
_OPENERS = {"upbeat": "Great! ", "playful": "Nice! ", "formal": "", "warm": "", "calm": "", "concise": ""}
_QUESTION_MOVES = ("check_understanding", "raise_challenge")


def move_sentence(move: str, request: ResponseRequest) -> str:
    """The template's sentence for one move on this turn; LLM responders borrow it when the model missed the move."""
    variants = _MOVES[move]
    return variants[request.dialogue.user_turns % len(variants)]


def body_sentence(request: ResponseRequest) -> str:
    """A concrete next step for the profile's domain, so a reply is never only empathy."""
    body = _BODY.get(request.profile, _BODY["customer_service"])
    return body[request.dialogue.user_turns % len(body)]


def realise(request: ResponseRequest) -> str:
    """The template reply: the directive's moves in order, one body line, within the length limit."""
    d = request.directive
    sentences = [move_sentence(m, request) for m in d.moves]
    if "escalate_to_human" not in d.moves and "give_time" not in d.moves:
        question = next((s for s in sentences if s.endswith("?")), None)
        sentences = [s for s in sentences if s != question]
        sentences.append(body_sentence(request))
        if question:
            sentences.append(question)
    limit = d.max_sentences
    if len(sentences) > limit:
        keep_last = any(m in d.moves for m in _QUESTION_MOVES)
        sentences = [*sentences[: limit - 1], sentences[-1]] if keep_last else sentences[:limit]
    return _OPENERS.get(d.tone, "") + " ".join(sentences)


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

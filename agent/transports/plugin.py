"""Empathy for existing LangChain bots: the user's emotion state and tone directive, added to a chain or an agent.

Two ways in, both holding an :class:`AgentSession` (perceive and decide only; your bot writes the reply) in a
:class:`HostedSession`, which orders the turns and keeps the media clock:

- :class:`EmpathyMiddleware` for ``langchain.agents.create_agent``: before each model call it reads the newest user
  message, updates the session, and appends the tone directive and the emotion estimate to the system prompt.
- :class:`EmpathyContext`, a Runnable for any chain: it passes its input dict through with ``tone_directive``
  and ``emotion`` added, for a prompt template to use.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from empathic.agent.respond.prompting import describe_emotion, directive_lines
from empathic.agent.session.build import build_session
from empathic.agent.session.host import HostedSession
from empathic.agent.session.loop import AgentSession
from empathic.agent.session.settings import Settings
from empathic.perception import TextTurn
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from pydantic import PrivateAttr


def perceive_only_session(profile: str = "customer_service") -> AgentSession:
    """A session that perceives and decides but leaves the reply to the host bot."""
    return build_session(Settings(profile=profile, responder="none"))


def guidance(session: AgentSession) -> str:
    """The lines a host model needs: how to answer this turn, and how the person may feel (as an estimate)."""
    directive = session.directive
    lines = [directive_lines(directive)] if directive is not None else []
    return "\n".join([*lines, describe_emotion(session.state)])


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")


def _run_sync(coro: Awaitable[Any]) -> Any:
    """Run a coroutine from synchronous code, also when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(asyncio.run(coro)))  # type: ignore[arg-type]
    worker.start()
    worker.join()
    return box[0]


class EmpathyMiddleware(AgentMiddleware):
    """Adds emotion state and tone directive to every model call of a ``create_agent`` agent.

    Each new user message is perceived once (tool-calling loops re-call the model without a new message).
    ``session`` defaults to a perceive-only customer-service session; pass your own for another profile,
    settings, consent or compliance. ``now`` gives media time (default: seconds since the middleware was made).
    """

    def __init__(self, session: AgentSession | None = None, now: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.host = HostedSession(session or perceive_only_session(), now=now)
        self._seen = 0

    @property
    def session(self) -> AgentSession:
        return self.host.session

    async def _observe(self, messages: list[BaseMessage]) -> None:
        humans = [m for m in messages if isinstance(m, HumanMessage)]
        if len(humans) > self._seen:
            self._seen = len(humans)
            await self.host.process(TextTurn(self.host.media_time(), _text_of(humans[-1])))

    def _with_guidance(self, request: ModelRequest) -> ModelRequest:
        base = request.system_prompt or ""
        return request.override(system_prompt=f"{base}\n\n{guidance(self.session)}".strip())

    def wrap_model_call(self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]) -> Any:
        _run_sync(self._observe(request.messages))
        return handler(self._with_guidance(request))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> Any:
        await self._observe(request.messages)
        return await handler(self._with_guidance(request))


class EmpathyContext(RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """``{"input": "...", ...}`` in, the same dict plus ``tone_directive`` and ``emotion`` out.

    Put it in front of a prompt that uses ``{tone_directive}`` and ``{emotion}``; ``now`` gives media time
    (default: seconds since it was made).
    """

    session: Any = None
    text_key: str = "input"
    now: Any = None
    _host: HostedSession = PrivateAttr()

    def model_post_init(self, _context: Any) -> None:
        self.session = self.session or perceive_only_session()
        self._host = HostedSession(self.session, now=self.now)

    async def ainvoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        host = self._host
        await host.process(TextTurn(host.media_time(), str(input[self.text_key])), config)
        session = host.session
        directive = session.directive
        return {
            **input,
            "tone_directive": directive_lines(directive) if directive is not None else "",
            "emotion": describe_emotion(session.state),
        }

    def invoke(self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        return _run_sync(self.ainvoke(input, config))

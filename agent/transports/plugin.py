"""Empathy for existing LangChain bots: the user's emotion state and tone directive, added to a chain or an agent.

Two ways in, both holding an :class:`AgentSession` (perceive and decide only; your bot writes the reply) in a
:class:`HostedSession`, which orders the turns and keeps the media clock:

- :class:`EmpathyMiddleware` for ``langchain.agents.create_agent``: one session per conversation (LangGraph thread);
  before each model call it reads the newest user message, updates that conversation's session, and appends the tone
  directive and the emotion estimate to the system prompt. When the policy hands over, it tells the host: the
  ``on_handover`` callback and the ``empathy_handover`` state field.
- :class:`EmpathyContext`, a Runnable for one conversation in any chain: it passes its input dict through with
  ``tone_directive``, ``emotion`` and ``handover`` added, for a prompt template and the host to use.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, NotRequired

from empathic.agent.respond.prompting import caveated_emotion, directive_lines
from empathic.agent.session.build import build_session
from empathic.agent.session.host import HostedSession
from empathic.agent.session.loop import AgentSession
from empathic.agent.session.settings import Settings
from empathic.perception import TextTurn
from empathic.policies import ToneDirective
from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langgraph.config import get_config
from langgraph.runtime import Runtime
from pydantic import PrivateAttr

HandoverCallback = Callable[[Hashable, ToneDirective], None]
"""Called as ``on_handover(conversation_key, directive)`` once per hand-over; ``directive.handoff_summary`` is what
the person taking over should read."""


def perceive_only_session(profile: str = "customer_service") -> AgentSession:
    """A session that perceives and decides but leaves the reply to the host bot."""
    return build_session(Settings(profile=profile, responder="none"))


def guidance(session: AgentSession) -> str:
    """The lines a host model needs: how to answer this turn, and how the person may feel (as an estimate)."""
    directive = session.directive
    lines = [directive_lines(directive)] if directive is not None else []
    return "\n".join([*lines, caveated_emotion(session.state)])


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")


def _handover_record(directive: ToneDirective) -> dict[str, Any]:
    return {"summary": directive.handoff_summary, "reasons": list(directive.reasons)}


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


class EmpathyState(AgentState):
    """The agent state with what the middleware tells the host: set once, when this conversation is handed over."""

    empathy_handover: NotRequired[dict[str, Any] | None]


@dataclass
class _Conversation:
    host: HostedSession
    seen: int = 0
    handed_over: bool = False
    used: float = 0.0


def thread_key(config: RunnableConfig) -> Hashable | None:
    """The LangGraph thread id of the run (``config["configurable"]["thread_id"]``), None without one."""
    return (config.get("configurable") or {}).get("thread_id")


class EmpathyMiddleware(AgentMiddleware[EmpathyState, Any]):
    """Adds emotion state and tone directive to every model call of a ``create_agent`` agent, one session per
    conversation.

    A conversation is named by ``key(config)`` (default :func:`thread_key`, the LangGraph thread id); when that gives
    None (no checkpointer, no thread id) it is named by the id of its first message, which the agent state keeps
    across calls that pass the messages back. At most ``max_sessions`` conversations are held (least recently used
    dropped first) and one idle for ``ttl_s`` seconds of ``clock`` is dropped with everything derived from it.

    Each new user message is perceived once (tool-calling loops re-call the model without a new message).
    ``make_session`` builds each conversation's session (default: perceive-only customer service); ``now`` gives
    media time (default: seconds since the conversation began). When the policy hands a conversation over,
    ``on_handover(key, directive)`` is called once and the state field ``empathy_handover`` is set to
    ``{"summary": ..., "reasons": [...]}``: the host transfers; the prompt only tells the model to say so.
    """

    state_schema = EmpathyState

    def __init__(
        self,
        make_session: Callable[[], AgentSession] | None = None,
        *,
        key: Callable[[RunnableConfig], Hashable | None] = thread_key,
        on_handover: HandoverCallback | None = None,
        max_sessions: int = 1000,
        ttl_s: float = 3600.0,
        now: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if max_sessions < 1 or not ttl_s > 0:
            raise ValueError("max_sessions must be >= 1 and ttl_s > 0")
        self.make_session = make_session or perceive_only_session
        self.key = key
        self.on_handover = on_handover
        self.max_sessions = max_sessions
        self.ttl_s = ttl_s
        self.now = now
        self.clock = clock
        self._conversations: OrderedDict[Hashable, _Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def session_for(self, key: Hashable) -> AgentSession | None:
        """The session of conversation ``key``, None when there is none (never seen, evicted or expired)."""
        with self._lock:
            self._expire()
            held = self._conversations.get(key)
        return None if held is None else held.host.session

    @property
    def conversations(self) -> list[Hashable]:
        """The keys of the conversations held now, least recently used first."""
        with self._lock:
            self._expire()
            return list(self._conversations)

    def _expire(self) -> None:
        now = self.clock()
        for key in [k for k, c in self._conversations.items() if now - c.used > self.ttl_s]:
            self._conversations.pop(key).host.close()

    def _conversation(self, messages: list[BaseMessage]) -> tuple[Hashable, _Conversation]:
        try:
            config = get_config()
        except RuntimeError:  # called outside a runnable context
            config = {}
        key = self.key(config)
        if key is None:
            key = ("first-message", messages[0].id if messages else None)
        with self._lock:
            self._expire()
            held = self._conversations.get(key)
            if held is None:
                held = self._conversations[key] = _Conversation(HostedSession(self.make_session(), now=self.now))
                while len(self._conversations) > self.max_sessions:
                    self._conversations.popitem(last=False)[1].host.close()
            self._conversations.move_to_end(key)
            held.used = self.clock()
        return key, held

    async def _observe(self, messages: list[BaseMessage]) -> dict[str, Any] | None:
        key, held = self._conversation(messages)
        humans = [m for m in messages if isinstance(m, HumanMessage)]
        if len(humans) <= held.seen:
            return None
        held.seen = len(humans)
        await held.host.process(TextTurn(held.host.media_time(), _text_of(humans[-1])))
        directive = held.host.session.directive
        if directive is None or not directive.escalate or held.handed_over:
            return None
        held.handed_over = True
        if self.on_handover is not None:
            self.on_handover(key, directive)
        return {"empathy_handover": _handover_record(directive)}

    def before_model(self, state: EmpathyState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        return _run_sync(self._observe(state["messages"]))

    async def abefore_model(self, state: EmpathyState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        return await self._observe(state["messages"])

    def _with_guidance(self, request: ModelRequest) -> ModelRequest:
        _, held = self._conversation(request.messages)
        base = request.system_prompt or ""
        return request.override(system_prompt=f"{base}\n\n{guidance(held.host.session)}".strip())

    def wrap_model_call(self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]) -> Any:
        return handler(self._with_guidance(request))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> Any:
        return await handler(self._with_guidance(request))


class EmpathyContext(RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """``{text_key: "...", ...}`` in, the same dict plus ``tone_directive``, ``emotion`` and ``handover`` out.

    One instance is one conversation. The person's words are read from ``text_key`` (default ``"input"``). Put it in
    front of a prompt that uses ``{tone_directive}`` and ``{emotion}``; ``handover`` is the hand-off summary on the
    turn the policy hands over (transfer the conversation then), else ``""``. ``now`` gives media time (default:
    seconds since it was made).
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
        if self.text_key not in input:
            raise ValueError(
                f"EmpathyContext reads the person's words from {self.text_key!r}, which this input lacks "
                f"(it has {sorted(input)}); pass text_key= to name the right one"
            )
        host = self._host
        escalated = host.session.dialogue.escalated
        await host.process(TextTurn(host.media_time(), str(input[self.text_key])), config)
        session = host.session
        directive = session.directive
        handover = directive is not None and directive.escalate and not escalated
        return {
            **input,
            "tone_directive": directive_lines(directive) if directive is not None else "",
            "emotion": caveated_emotion(session.state),
            "handover": directive.handoff_summary if handover and directive is not None else "",
        }

    def invoke(self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        return _run_sync(self.ainvoke(input, config))

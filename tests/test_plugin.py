"""The LangChain plugin: emotion state and tone directive reach an existing agent or chain."""

from typing import Any

import pytest
from empathic.agent.respond.prompting import sanitize
from empathic.agent.transports.plugin import EmpathyContext, EmpathyMiddleware, perceive_only_session
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate
from pydantic import Field


class RecordingModel(GenericFakeChatModel):
    """A fake chat model that remembers the messages of every call."""

    seen: list[list[Any]] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def bind_tools(self, tools, **kwargs):
        return self


def test_middleware_adds_the_directive_to_the_system_prompt():
    model = RecordingModel(messages=iter([AIMessage("Sorry about that, let me fix it."), AIMessage("Sure.")]))
    middleware = EmpathyMiddleware(now=lambda: 1.0)
    bot = create_agent(model=model, tools=[], system_prompt="You are ShopBot.", middleware=[middleware])
    out = bot.invoke(
        {"messages": [HumanMessage("This is ridiculous, my order STILL hasn't arrived!!")]},
        {"configurable": {"thread_id": "t1"}},
    )
    assert out["messages"][-1].content.startswith("Sorry")
    system = next(m for m in model.seen[0] if isinstance(m, SystemMessage)).content
    assert system.startswith("You are ShopBot.")
    assert "sorry" in system.lower() and "automatic estimate" in system
    session = middleware.session_for("t1")
    assert session.dialogue.user_turns == 1 and session.directive.moves[:2] == ("acknowledge", "apologize")
    assert f"Evidence: {sanitize(session.state.explanation, 240)}" in system  # what the estimate rests on


async def test_middleware_perceives_each_user_message_once():
    model = RecordingModel(messages=iter([AIMessage("a"), AIMessage("b")]))
    middleware = EmpathyMiddleware(now=lambda: 2.0)
    bot = create_agent(model=model, tools=[], middleware=[middleware])
    state = await bot.ainvoke({"messages": [HumanMessage("hello")]})
    await bot.ainvoke({"messages": [*state["messages"], HumanMessage("Can I speak to a manager?")]})
    [key] = middleware.conversations  # no thread id: named by its first message, kept in the state
    session = middleware.session_for(key)
    assert session.dialogue.user_turns == 2 and session.directive.escalate
    assert "human colleague" in next(m for m in model.seen[-1] if isinstance(m, SystemMessage)).content


def test_context_runnable_feeds_a_prompt_template():
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Support bot. {tone_directive}\n{emotion}"), ("human", "{input}")]
    )
    context = EmpathyContext(session=perceive_only_session("tutoring"), now=lambda: 3.0)
    value = (context | prompt).invoke({"input": "I don't understand this at all, I'm confused"})
    system = value.to_messages()[0].content
    assert "hint" in system.lower() and "confidence" in system
    assert context.session.dialogue.user_turns == 1


async def test_context_runnable_async_passes_input_through():
    context = EmpathyContext(now=lambda: 1.0)
    out = await context.ainvoke({"input": "thanks, that's great", "order": 42})
    assert out["order"] == 42 and out["input"] == "thanks, that's great" and out["tone_directive"]


def thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def test_two_conversations_through_one_middleware_stay_separate():
    model = RecordingModel(messages=iter([AIMessage(x) for x in "abcd"]))
    handed: list[tuple[Any, str]] = []
    middleware = EmpathyMiddleware(now=lambda: 1.0, on_handover=lambda k, d: handed.append((k, d.handoff_summary)))
    bot = create_agent(model=model, tools=[], middleware=[middleware])
    first = bot.invoke({"messages": [HumanMessage("I want to speak to a real person now!")]}, thread("ann"))
    second = bot.invoke({"messages": [HumanMessage("Hi, where is my order A1002?")]}, thread("bob"))
    assert first["empathy_handover"]["summary"] and "empathy_handover" not in second
    assert [k for k, _ in handed] == ["ann"]
    ann, bob = middleware.session_for("ann"), middleware.session_for("bob")
    assert ann is not bob and ann.dialogue.user_turns == bob.dialogue.user_turns == 1
    assert not bob.directive.escalate and not bob.dialogue.escalated
    system = next(m for m in model.seen[1] if isinstance(m, SystemMessage)).content
    assert "human colleague" not in system  # bob is not told ann's hand-over


async def test_the_handover_callback_fires_once_per_handover():
    model = RecordingModel(messages=iter([AIMessage(x) for x in "abc"]))
    handed: list[Any] = []
    middleware = EmpathyMiddleware(now=lambda: 1.0, on_handover=lambda k, d: handed.append(k))
    bot = create_agent(model=model, tools=[], middleware=[middleware])
    state = await bot.ainvoke({"messages": [HumanMessage("Can I speak to a manager?")]}, thread("t"))
    state = await bot.ainvoke({"messages": [*state["messages"], HumanMessage("A manager, please!")]}, thread("t"))
    await bot.ainvoke({"messages": [*state["messages"], HumanMessage("Hello?")]}, thread("t"))
    assert handed == ["t"]


def test_conversations_are_bounded_by_lru_and_ttl():
    now = [0.0]
    model = RecordingModel(messages=iter([AIMessage(x) for x in "abcde"]))
    middleware = EmpathyMiddleware(now=lambda: 1.0, max_sessions=2, ttl_s=60.0, clock=lambda: now[0])
    bot = create_agent(model=model, tools=[], middleware=[middleware])
    for name in ("a", "b", "a", "c"):
        bot.invoke({"messages": [HumanMessage("hello")]}, thread(name))
        now[0] += 1.0
    assert middleware.conversations == ["a", "c"]  # b was least recently used
    assert middleware.session_for("b") is None
    now[0] += 58.5
    assert middleware.conversations == ["c"]  # a idle for more than 60 s
    now[0] += 1.0
    assert middleware.conversations == []
    with pytest.raises(ValueError, match="max_sessions"):
        EmpathyMiddleware(max_sessions=0)


def test_context_reads_the_named_key_and_names_a_missing_one():
    context = EmpathyContext(text_key="question", now=lambda: 1.0)
    out = context.invoke({"question": "I want to talk to a human agent."})
    assert out["handover"] and out["tone_directive"]
    assert context.invoke({"question": "hello?"})["handover"] == ""  # said once, on the turn that hands over
    with pytest.raises(ValueError, match=r"'question'.*text_key="):
        context.invoke({"input": "hello"})

"""The LangChain plugin: emotion state and tone directive reach an existing agent or chain."""

from typing import Any

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
    out = bot.invoke({"messages": [HumanMessage("This is ridiculous, my order STILL hasn't arrived!!")]})
    assert out["messages"][-1].content.startswith("Sorry")
    system = next(m for m in model.seen[0] if isinstance(m, SystemMessage)).content
    assert system.startswith("You are ShopBot.")
    assert "sorry" in system.lower() and "automatic estimate" in system
    assert middleware.session.dialogue.user_turns == 1 and middleware.session.directive.moves[:2] == (
        "acknowledge",
        "apologize",
    )


async def test_middleware_perceives_each_user_message_once():
    model = RecordingModel(messages=iter([AIMessage("a"), AIMessage("b")]))
    middleware = EmpathyMiddleware(now=lambda: 2.0)
    bot = create_agent(model=model, tools=[], middleware=[middleware])
    state = await bot.ainvoke({"messages": [HumanMessage("hello")]})
    await bot.ainvoke({"messages": [*state["messages"], HumanMessage("Can I speak to a manager?")]})
    assert middleware.session.dialogue.user_turns == 2
    assert middleware.session.directive.escalate
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

"""An existing order-support bot made emotion-aware with empathic's LangChain plugin.

The bot's own logic (look up an order, explain returns) stays as it is; ``EmpathyContext`` adds the customer's
emotion estimate and a tone directive to every turn, and the reply follows the directive: it acknowledges and
apologizes when the customer is upset and, when a person is what they need, actually hands over: the turn's
``handover`` (the hand-off summary) goes to ``transfer``, and the bot stops answering that conversation.

Run offline:  .venv/bin/python examples/customer_service_bot.py              (a scripted angry customer)
              .venv/bin/python examples/customer_service_bot.py --interactive
With an LLM:  add --chat-model embedded (SmolLM2, fetched by `make setup`) or --chat-model ollama:llama3.2
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from collections.abc import Callable, Iterable, Sequence

from empathic.agent.respond.template import ResponseRequest, move_sentence
from empathic.agent.transports.plugin import EmpathyContext, perceive_only_session

ORDERS = {
    "A1001": "shipped on Monday; it should arrive by Thursday",
    "A1002": "delayed at the warehouse; it will ship within two days",
    "A1003": "delivered yesterday at 14:05 and signed for at the front desk",
}
SCRIPT = (
    "Hi, where is my order A1002?",
    "It was supposed to be here last week. This is ridiculous!",
    "I have asked THREE times already and it is still not here!!",
    "I want to speak to a real person.",
)


def bot_answer(said: Sequence[str]) -> str:
    """The existing bot: facts only, no feelings. It remembers the last order number the customer gave."""
    orders = [m for text in said for m in re.findall(r"\b[A-Z]\d{4}\b", text.upper()) if m in ORDERS]
    if re.search(r"\b(refund|return)\b", said[-1], re.I):
        return "You can return any item within 30 days for a full refund."
    if orders:
        return f"Order {orders[-1]} was {ORDERS[orders[-1]]}."
    return "Could you tell me your order number (it looks like A1234)?"


def empathic_reply(context: EmpathyContext, text: str, answer: str) -> str:
    """The bot's answer framed by the directive's empathy moves."""
    session = context.session
    directive = session.directive
    request = ResponseRequest(session.dialogue.turns[-1], directive, session.state, session.dialogue)
    if directive.escalate:
        return " ".join(move_sentence(m, request) for m in directive.moves)
    first = sorted((m for m in directive.moves if m != "check_understanding"), key=lambda m: m != "apologize")
    before = [move_sentence(m, request) for m in first]
    after = [move_sentence(m, request) for m in directive.moves if m == "check_understanding"]
    return " ".join([*before[: max(0, directive.max_sentences - 1)], answer, *after])


def llm_reply(chat_model: str, guidance: dict[str, str], text: str, answer: str) -> str:
    from empathic.agent.respond.llm_config import LLMSettings, build_chat_model
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([
        ("system", "You are a friendly order-support assistant. Facts you may use: {answer}\n{tone_directive}\n"
                   "{emotion}"),
        ("human", "{input}"),
    ])  # fmt: skip
    chain = prompt | build_chat_model(LLMSettings(chat_model=chat_model)) | StrOutputParser()
    return chain.invoke({**guidance, "input": text, "answer": answer})


def transfer_to_human(summary: str, out=sys.stdout) -> None:
    """Your hand-over goes here: put the conversation in a human agent's queue with the summary."""
    print(f"  [transferred to the human-agent queue with the summary: {summary}]", file=out)


def converse(
    lines: Iterable[str],
    chat_model: str | None = None,
    out=sys.stdout,
    live: bool = False,
    transfer: Callable[[str], None] | None = None,
) -> EmpathyContext:
    """Answer each line until the policy hands over; then ``transfer`` (default: :func:`transfer_to_human`) gets the
    summary and the bot answers no more."""
    transfer = transfer or (lambda summary: transfer_to_human(summary, out))
    # a scripted chat has no real pauses: give each turn 5 s of media time, as in a live conversation
    turn_clock = itertools.count(5.0, 5.0).__next__ if not live else None
    context = EmpathyContext(session=perceive_only_session("customer_service"), now=turn_clock)
    said: list[str] = []
    for text in lines:
        said.append(text)
        guidance = context.invoke({"input": text})
        answer = bot_answer(said)
        reply = llm_reply(chat_model, guidance, text, answer) if chat_model else empathic_reply(context, text, answer)
        d = context.session.directive
        state = context.session.state
        print(f"customer> {text}", file=out)
        print(
            f"  [{state.top_complex(0.4) or state.dominant}, confidence {state.confidence:.2f}; "
            f"tone {d.tone}, moves {', '.join(d.moves) or 'none'}]",
            file=out,
        )
        print(f"bot> {reply}", file=out)
        print(file=out)
        if guidance["handover"]:
            transfer(guidance["handover"])
            break
    return context


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactive", action="store_true", help="type the customer's turns yourself")
    parser.add_argument("--chat-model", help="'embedded' or provider:model; default: no LLM")
    args = parser.parse_args(argv)
    lines = (line.strip() for line in sys.stdin if line.strip()) if args.interactive else SCRIPT
    converse(lines, args.chat_model, live=args.interactive)
    return 0


if __name__ == "__main__":
    sys.exit(main())

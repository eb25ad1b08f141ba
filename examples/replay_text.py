"""Replay a scripted customer conversation and print the emotion state, directive and reply of each turn.

Run: .venv/bin/python examples/replay_text.py
"""

import asyncio

from empathic.agent import DirectiveChosen, EmotionUpdated, ResponseCompleted, build_session
from empathic.perception import TextTurn
from empathic.perception.sources import replay

TURNS = [
    "Hi, my parcel was supposed to arrive on Monday.",
    "It still hasn't come and nobody answers my emails. This is ridiculous!",
    "I want to talk to a real person.",
]


async def main() -> None:
    session = build_session()
    observations = [TextTurn(5.0 * (i + 1), text) for i, text in enumerate(TURNS)]
    async for event in session.run(replay(observations)):
        if isinstance(event, EmotionUpdated):
            print(f"[{event.t:5.1f}s] state: {event.state.explanation}")
        elif isinstance(event, DirectiveChosen):
            print(f"          directive: {event.directive.tone} {list(event.directive.moves)}")
        elif isinstance(event, ResponseCompleted):
            print(f"          reply: {event.text}\n")


if __name__ == "__main__":
    asyncio.run(main())

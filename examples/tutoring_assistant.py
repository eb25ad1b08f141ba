"""A small maths tutor that adapts to how the learner feels: hints for confusion, a smaller step for frustration,
a harder problem for boredom, and quiet while they think.

The tutor owns the maths (problems, answer checking, attempts and hints per problem); empathic's tutoring profile
reads the learner's words and says how to respond.

Run offline:  .venv/bin/python examples/tutoring_assistant.py                 (a scripted learner)
              .venv/bin/python examples/tutoring_assistant.py --interactive
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from empathic.agent.respond.template import ResponseRequest, move_sentence
from empathic.agent.transports.plugin import perceive_only_session
from empathic.perception import TextTurn


@dataclass(frozen=True)
class Problem:
    question: str
    answer: float
    hints: tuple[str, ...]


PROBLEMS = (
    Problem("What is 15% of 80?", 12, ("Percent means 'out of 100', so 15% is 0.15.", "Multiply 80 by 0.15.")),
    Problem("Solve for x: 3x + 5 = 20.", 5, ("Undo the +5 first: subtract 5 from both sides.",
                                              "Now 3x = 15. Divide both sides by 3.")),
    Problem("What is 3/4 + 1/8, as a decimal?", 0.875, ("Write 3/4 in eighths: 6/8.",
                                                        "6/8 + 1/8 = 7/8; divide 7 by 8.")),
    Problem("Solve for x: 2(x - 3) = x + 4.", 10, ("Expand the bracket: 2x - 6 = x + 4.",
                                                   "Collect x on one side: 2x - x = 4 + 6.")),
    Problem("A shirt costs 40 after a 20% discount. What was the original price?", 50,
            ("After the discount you pay 80% of the price.", "So 0.8 x price = 40; divide 40 by 0.8.")),
)  # fmt: skip

SCRIPT = (
    "I don't get it, I'm confused.",
    "Is it 10?",
    "12",
    "x = 5, this is easy. Boring.",
    "hmm, let me think about it...",
    "I think it is 10",
)


@dataclass
class Tutor:
    """Which problem the learner is on, and their attempts and hints on it."""

    level: int = 0
    attempts: int = 0
    hints: int = 0
    solved: list[str] = field(default_factory=list)

    @property
    def problem(self) -> Problem:
        return PROBLEMS[min(self.level, len(PROBLEMS) - 1)]

    def check(self, text: str) -> bool | None:
        """True or False for an answer, None when the turn holds no number."""
        numbers = re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", "."))
        if not numbers:
            return None
        return abs(float(numbers[-1]) - self.problem.answer) < 1e-6

    def next_problem(self, skip: int = 1) -> str:
        self.solved.append(self.problem.question)
        self.level = min(self.level + skip, len(PROBLEMS) - 1)
        self.attempts = self.hints = 0
        return self.problem.question

    def hint(self) -> str:
        text = self.problem.hints[min(self.hints, len(self.problem.hints) - 1)]
        self.hints += 1
        return f"Hint: {text}"


def reply(tutor: Tutor, text: str, request: ResponseRequest) -> str:
    """Feedback on the maths, shaped by the directive's moves."""
    d = request.directive
    say = lambda move: move_sentence(move, request)  # noqa: E731
    if "give_time" in d.moves:
        return say("give_time")
    verdict = tutor.check(text)
    if verdict:
        harder = "raise_challenge" in d.moves
        nxt = tutor.next_problem(skip=2 if harder else 1)
        return f"Correct! {say('encourage')} {'Here is a harder one' if harder else 'Next'}: {nxt}"
    if verdict is False:
        tutor.attempts += 1
    parts = ["Not quite." if verdict is False else ""]
    parts += [say(m) for m in d.moves if m in ("validate", "encourage", "simplify", "suggest_break")]
    if "offer_hint" in d.moves or tutor.attempts >= 2:
        parts.append(tutor.hint())
    if "raise_challenge" in d.moves:
        return " ".join([*parts, f"Let's try something harder: {tutor.next_problem(skip=2)}"]).strip()
    parts.append(
        say("check_understanding") if "check_understanding" in d.moves else f"Try again: {tutor.problem.question}"
    )
    return " ".join(p for p in parts if p)


def lesson(lines: Iterable[str], out=sys.stdout) -> Tutor:
    session = perceive_only_session("tutoring")
    tutor = Tutor()
    print(f"tutor> {tutor.problem.question}", file=out)
    for i, text in enumerate(lines):
        asyncio.run(session.process(TextTurn(5.0 * (i + 1), text)))
        request = ResponseRequest(
            session.dialogue.turns[-1], session.directive, session.state, session.dialogue, "tutoring"
        )
        state = session.state
        print(f"learner> {text}", file=out)
        print(
            f"  [{state.top_complex(0.4) or state.dominant}; moves {', '.join(session.directive.moves) or 'none'}]",
            file=out,
        )
        print(f"tutor> {reply(tutor, text, request)}", file=out)
    return tutor


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactive", action="store_true", help="answer the problems yourself")
    args = parser.parse_args(argv)
    lesson((line.strip() for line in sys.stdin if line.strip()) if args.interactive else SCRIPT)
    return 0


if __name__ == "__main__":
    sys.exit(main())

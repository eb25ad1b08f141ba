"""The shipped examples run offline and do what their docstrings promise."""

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import customer_service_bot as cs
import tutoring_assistant as tutor


def test_customer_service_bot_apologizes_then_hands_over():
    out = io.StringIO()
    transfers: list[str] = []
    context = cs.converse([*cs.SCRIPT, "Hello? Anyone?"], out=out, transfer=transfers.append)
    replies = [line for line in out.getvalue().splitlines() if line.startswith("bot> ")]
    assert len(replies) == 4  # handed over: the bot does not answer the line after
    assert len(transfers) == 1 and "A1002" in transfers[0]
    assert "A1002" in replies[0] and "sorry" not in replies[0].lower()
    assert any(w in replies[1].lower() for w in ("sorry", "apologize")) and "A1002" in replies[1]
    assert "member of our team" in replies[3]
    assert context.session.dialogue.escalated


def test_order_lookup_remembers_the_order():
    assert "delivered" in cs.bot_answer(["hi, order a1003", "so where is it?"])
    assert "order number" in cs.bot_answer(["where is my parcel?"])


def test_tutor_checks_answers_gives_problem_hints_and_moves_on():
    out = io.StringIO()
    t = tutor.lesson(["I don't get it, I'm confused.", "Is it 10?", "maybe 11", "12"], out=out)
    text = out.getvalue()
    assert "Hint: Percent means" in text  # the problem's own hint, on confusion
    assert "Not quite." in text and "Correct!" in text
    assert t.solved == ["What is 15% of 80?"] and t.problem.answer == 5


def test_bored_learner_skips_ahead():
    t = tutor.Tutor(level=1)
    out = io.StringIO()
    tutor.lesson(["This is so boring. Whatever."], out=out)
    assert "raise_challenge" in out.getvalue()
    assert t.check("x = 5") is True and t.check("no idea") is None and t.check("4.99") is False

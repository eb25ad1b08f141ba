"""Checks of an LLM reply against its directive and the safety rules, and the counts of how often they fail.

Small models often miss the point (a 135M model answered a frustrated customer "I'm sorry for your loss, but I'm
unable to assist you with your request"), so every sentence is screened before anyone sees it and the whole
reply is checked for what the directive asked: an apology, a question, the length limit, staying on topic.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from empathic.policies import MOVE_TABLE, ToneDirective

BANNED: dict[str, re.Pattern[str]] = {
    "refusal": re.compile(
        r"\b(i('m| am) (unable|not able) to|i can(no|')?t (help|assist|do that|provide|support)|unable to "
        r"(help|assist)|i('m| am) not (allowed|permitted)|i (won'?t|will not) (help|assist))",
        re.I,
    ),
    "diagnosis": re.compile(
        r"\b(diagnos\w*|you (may |might |probably |clearly |must )?(have|suffer from|are suffering from|show signs of)"
        r" (depression|anxiety|adhd|bipolar|ptsd|an? (\w+ )?disorder|a mental)|you('re| are) (clinically )?"
        r"(depressed|bipolar|mentally ill|paranoid|autistic|unstable))",
        re.I,
    ),
    "manipulation": re.compile(
        r"\b(act now|only today|last chance|you'?ll regret|you will regret|if you really cared|you owe (me|us)|"
        r"don'?t tell anyone|before it'?s too late)\b",
        re.I,
    ),
    "blame": re.compile(
        r"\b(your (own )?fault|you should have|you did(n'?t| not) (read|follow|check)|that'?s not true|"
        r"you('re| are) wrong|calm down)\b",
        re.I,
    ),
    "condolence": re.compile(r"\b(sorry for your loss|condolences|passed away|rest in peace)\b", re.I),
    "third_person": re.compile(
        r"\b(the|this) (user|customer|learner|student|person)('s)? (wants?|is|has|asked|said|says|needs?|seems|feels|"
        r"would|was|asks)\b",
        re.I,
    ),
    "grammar_correction": re.compile(
        r"\b(you mean|did you mean|correct (spelling|grammar|word|way to (say|write))|grammatical\w*|is spelled|"
        r"should be spelled|proper english)\b",
        re.I,
    ),
    "role_break": re.compile(
        r"\b(as an ai|language model|system prompt|my (instructions|rules)|these rules|ignore (all|the|previous|"
        r"your)|developer mode|i am now|jailbr\w+|user_message)",
        re.I,
    ),
}
REQUIRED: dict[str, tuple[str, re.Pattern[str]]] = {
    m.name: (m.check, m.shows) for m in MOVE_TABLE.values() if m.shows is not None
}
"""Moves whose realisation can be seen in the words: the requirement's name and what shows it."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z']+")
_STOP = frozenset(
    [
        "that",
        "this",
        "with",
        "have",
        "your",
        "what",
        "when",
        "will",
        "would",
        "could",
        "should",
        "about",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "just",
        "also",
        "into",
        "from",
        "were",
        "been",
        "being",
        "here",
        "more",
        "some",
        "very",
        "really",
        "sure",
        "okay",
        "know",
        "like",
        "want",
        "need",
        "make",
        "take",
        "help",
    ]
)


_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")


def screen(sentence: str, conversation: str = "") -> str | None:
    """The first rule a sentence breaks, or None. Run before a sentence is shown. A number the conversation never
    mentioned (a price, a date, an order number) is invented: small models do that, and nothing invented is shown."""
    broken = next((name for name, pattern in BANNED.items() if pattern.search(sentence)), None)
    if broken is None and any(n not in conversation for n in _NUMBER.findall(sentence)):
        return "invented_number"
    return broken


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def word_count(text: str) -> int:
    return len(text.split())


def _stems(text: str) -> set[str]:
    """Crude stems (first five letters of content words): enough to see whether two texts share a subject."""
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in _STOP}


def on_topic(reply: str, user_text: str, topic_words: list[str]) -> bool:
    """Shares a content word with what the user said or with the domain's vocabulary."""
    return bool(_stems(reply) & (_stems(user_text) | _stems(" ".join(topic_words))))


def missing_moves(text: str, directive: ToneDirective) -> list[str]:
    """The directive's visible moves (:data:`REQUIRED`) that ``text`` does not realise."""
    return [m for m in directive.moves if m in REQUIRED and not REQUIRED[m][1].search(text)]


@dataclass(frozen=True, slots=True)
class ReplyCheck:
    """The requirements a reply missed: ``apology``, ``question``, ``handover``, ``length``, ``on_topic``, ``safe``."""

    missed: tuple[str, ...]
    asked: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.missed


def check_reply(
    reply: str,
    directive: ToneDirective,
    user_text: str,
    topic_words: list[str],
    cut: bool = False,
    conversation: str | None = None,
) -> ReplyCheck:
    """Every check on the model's own words; ``cut`` says the model was stopped at the length limit;
    ``conversation`` (default: ``user_text``) is what a number in the reply must come from."""
    asked = ["safe", "length", "on_topic", *(REQUIRED[m][0] for m in directive.moves if m in REQUIRED)]
    missed = [REQUIRED[m][0] for m in missing_moves(reply, directive)]
    if any(screen(s, user_text if conversation is None else conversation) for s in sentences(reply)):
        missed.append("safe")
    if cut or len(sentences(reply)) > directive.max_sentences or word_count(reply) > directive.max_words:
        missed.append("length")
    if not on_topic(reply, user_text, topic_words):
        missed.append("on_topic")
    return ReplyCheck(tuple(missed), tuple(asked))


class ReplyStats:
    """Counts over many replies: how often the model itself met each requirement, and what was done about it."""

    def __init__(self) -> None:
        self.replies = 0
        self.actions: Counter[str] = Counter()
        self.asked: Counter[str] = Counter()
        self.missed: Counter[str] = Counter()

    def record(self, check: ReplyCheck, action: str) -> None:
        """``action`` is ``llm`` (the model's words only), ``combined`` (with template sentences) or ``template``."""
        self.replies += 1
        self.actions[action] += 1
        self.asked.update(check.asked)
        self.missed.update(check.missed)

    def summary(self) -> dict[str, object]:
        """Per requirement, the share of the replies asked for it whose model text met it; and the action shares."""
        n = max(self.replies, 1)
        return {
            "replies": self.replies,
            "realised_by_llm": {k: round(1 - self.missed[k] / v, 3) for k, v in sorted(self.asked.items())},
            "actions": {k: round(self.actions[k] / n, 3) for k in ("llm", "combined", "template")},
        }

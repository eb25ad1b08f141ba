"""Words and patterns that point at emotions and at complex states (hedges, questions, "still", "again", ...).

Each pattern names the labels it supports and how strongly one match counts; several matches combine as a
noisy-OR, so two weak hints count more than one but never reach certainty. An emotion word right after a negation
("not happy", "don't worry") does not count. Patterns stay narrow on purpose: "already" and "keep" alone are not
repetition ("I already know how to add fractions"); "already told you" and "keeps crashing" are.

Sarcasm is read from set phrases ("oh great", "thanks for nothing", "yeah right"), scare quotes around praise, and
praise over a bad situation ("fantastic" with "on hold", "charged twice", "broken", ...). "Again", "still" and
"as always" only half count as a bad situation, so "thanks again!" stays thanks; a fix in the same turn ("works
now", "fixed") cancels the reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathic.perception.estimates import Cue
from empathic.perception.text.intents import detect_intents


@dataclass(frozen=True, slots=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]
    supports: tuple[str, ...]
    strength: float


def _p(name: str, pattern: str, supports: tuple[str, ...], strength: float) -> _Pattern:
    return _Pattern(name, re.compile(pattern, re.IGNORECASE), supports, strength)


_NOT = r"(?<!not )(?<!n't )(?<!never )(?<!no )(?<!dont )"
"""An emotion word right after a negation does not count for that emotion."""

PATTERNS: tuple[_Pattern, ...] = (
    # complex states
    _p(
        "hedge",
        r"\b(i'?m not sure|not sure|maybe|perhaps|i guess|i think|kind of|sort of|i suppose)\b",
        ("confusion", "contemplation"),
        0.3,
    ),
    _p(
        "question",
        r"\?|^\s*(what|why|how|which|where|when|can|could|is|does|do)\b",
        ("confusion", "interest"),
        0.25,
    ),
    _p(
        "confusion_words",
        r"\b(confus\w*|(don'?t|do not|doesn'?t) (get|understand|follow)|(doesn'?t|does not) make sense|i'?m lost"
        r"|what do you mean|no idea|huh|(don'?t|do not) know (where|how) to (start|begin)|(always|keep) mix(ing)? up"
        r"|can never remember|(can'?t|cannot) (tell|remember) (which|the difference))\b",
        ("confusion",),
        0.6,
    ),
    _p(
        "repetition",
        r"\b(still (not|no|doesn'?t|don'?t|isn'?t|can'?t|won'?t|haven'?t|hasn'?t|waiting|broken|stuck|the same"
        r"|nothing|getting|having)|(?<!once )(?<!explain )(?<!explain it )(?<!explain that )(?<!say )"
        r"(?<!say it )(?<!say that )(?<!try )(?<!thanks )(?<!thank you )again|already (told|said|tried|did|done"
        r"|explained|sent|asked|gave|given|answered|restarted|reset|called|checked|paid|waited)|keeps? (on )?"
        r"(happening|crashing|failing|freezing|breaking|asking|telling|saying|getting|giving|losing|dropping"
        r"|hanging|timing out|coming back|showing|popping up|repeating|sending|charging)|every (single )?time"
        r"|(second|third|fourth|fifth|sixth|umpteenth|nth|hundredth|millionth|\d+(st|nd|rd|th)) time"
        r"|over and over)\b",
        ("frustration",),
        0.4,
    ),
    _p(
        "frustration_words",
        r"\b(frustrat\w*|annoy\w*|fed up|sick of|tired of|ridiculous|useless|waste of (my )?time|give up|ugh+|argh+"
        r"|unacceptable|doesn'?t work|not working|nothing works)\b",
        ("frustration",),
        0.55,
    ),
    _p(
        "doubt",
        r"\b(really\?|doubt\w*|not convinced|sure about that|too good to be true|yeah,? right|skeptic\w*"
        r"|suspicious|prove it|i don'?t buy|are you sure|how (do|would|can) i know|sounds? made up|(will|would) i"
        r" ever (actually )?(use|need)|what'?s the point of|is that (even )?true|i'?m not so sure)",
        ("skepticism",),
        0.55,
    ),
    _p(
        "pondering",
        r"\b(hmm+|let me think|thinking about|wondering|ponder\w*|on the other hand|considering)\b",
        ("contemplation",),
        0.45,
    ),
    _p(
        "boredom_words",
        r"\b(bor(ed|ing)|whatever|meh|so what|don'?t care|tedious|dull|yawn\w*|this again|(too|really|so) easy"
        r"|can we (do something else|stop|skip|move on)|i know (them|this|it) all|we did this (already|in|last))\b",
        ("boredom",),
        0.55,
    ),
    _p(
        "interest_words",
        r"\b(interesting|fascinat\w*|tell me more|curious|cool|how does|why does|love to know"
        r"|want to learn|neat)\b",
        ("interest",),
        0.5,
    ),
    _p("contrast", r"\b(but|although|though|however|yet)\b", ("mixed",), 0.2),
    _p(
        "sarcasm",
        r"\b(oh,? (great|perfect|wonderful|fantastic|brilliant|joy|lovely|goody)\b|just (perfect|great|wonderful"
        r"|fantastic|brilliant|lovely|what i (needed|wanted))|thanks for nothing|thanks a lot,? (not|for nothing)"
        r"|yeah,? right|can'?t wait to (do|go through|deal with) (this|that|it) (all )?again|lucky me"
        r"|story of my life|what a (surprise|shock|treat)\b|how convenient\b|such a treat|yay,? (my|more|another)"
        r"|so much fun\b|my (absolute |very )?favou?rite (thing|part|way)"
        r"|because (that|it) (worked|went) (so|really) well"
        r"|that went well\b|(really|totally) cleared (everything|it|that|things) up)"
        r"""|["“'](help|support|service|customer service|solution|fix|expert|helpful|assistance|smart|fast"""
        r"""|quick|priority)[.!?,]?["”']""",
        ("sarcasm", "frustration"),
        0.6,
    ),
    # basic emotions
    _p(
        "anger_words",
        _NOT + r"\b(angry|furious|mad|outrag\w*|hate|terrible|worst|pissed|livid|rude|scam)\b",
        ("angry",),
        0.6,
    ),
    _p(
        "sadness_words",
        _NOT + r"\b(sad|unhappy|disappoint\w*|depress\w*|lonely|heartbroken|upset|cr(y|ying|ied|ies)"
        r"|miss(ed)? (him|her|them)|(feel|feeling|felt|so) down)\b",
        ("sad",),
        0.55,
    ),
    _p(
        "fear_words",
        _NOT + r"(?<!don't )\b(afraid|scared|worr(y|ied)|anxious|nervous|terrified|panic\w*|frighten\w*)\b",
        ("fear",),
        0.6,
    ),
    _p("disgust_words", _NOT + r"\b(disgust\w*|gross|nasty|revolting|sickening|eww+)\b", ("disgust",), 0.6),
    _p(
        "surprise_words",
        r"\b(wow|surpris\w*|unexpected|shock\w*|can'?t believe|no way|whoa)\b",
        ("surprise",),
        0.5,
    ),
    _p(
        "joy_words",
        _NOT + r"\b(happy|glad|great|thanks(?! for nothing)|thank you|awesome|love|perfect|excellent|wonderful"
        r"|delighted)\b",
        ("happy",),
        0.45,
    ),
)

_PRAISE = re.compile(
    r"\b(great|perfect|fantastic|wonderful|love|loving|awesome|brilliant|amazing|excellent|lovely|superb"
    r"|marvell?ous|terrific|splendid|fabulous|delightful|best|thanks|thank you|so helpful|well done|treat|proud"
    r"|lightning fast|impressive|impressed|fond of|love listening|enjoy(ing)? (waiting|listening))\b",
    re.IGNORECASE,
)
_BAD_SITUATION = re.compile(
    r"\b(on hold|hold music|been waiting|still waiting"
    r"|wait(ed|ing)? (for )?(\d+|an?|another) (hours?|minutes?|days?|weeks?)"
    r"|(for|took|takes|after) (\d+|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|several)"
    r" (hours?|minutes?|days?|weeks?|months?)|(\d+|two|three|four|five|six|seven|eight|nine|ten) (days|weeks|months)"
    r" for|the last (\d+|two|three|four|five) times|label created"
    r"|another (\d+|hour|day|week|month)|broken|charged (me )?twice|double[- ]charged|overcharged"
    r"|(arrived|arrives|came|is|was|running|again) late|late (again|delivery|payment)"
    r"|delayed|cancell?ed|failed|crash\w*|lost (my |all )?(money|data|files|work|order)|never arrived"
    r"|no (response|reply|answer)|(doesn'?t|didn'?t|won'?t) work|not working|error|outage|down again|stuck"
    r"|ignored|(nobody|no one) (answers|replies|helps|reads|cares))\b",
    re.IGNORECASE,
)
_WEAK_SITUATION = re.compile(
    r"\b((?<!thanks )(?<!thank you )again|still|as (always|usual)|every (single )?time|yet another)\b", re.IGNORECASE
)
_RESOLVED = re.compile(
    r"\b(fix(ed|es)?|solved|resolved|sorted( out)?|works now|working now|no longer|gone|finally (works|arrived)"
    r"|back (up|online)|sorting (it|this|that) out|(thanks|thank you) for (fixing|sorting|solving|resolving|helping"
    r"|getting|looking))\b",
    re.IGNORECASE,
)
_SARCASM_SUPPORTS = ("sarcasm", "frustration")
SARCASTIC = 0.5
"""Sarcasm support from which a turn reads as ironic: its praise is discounted and its valence turns negative."""


@dataclass(frozen=True, slots=True)
class TextCues:
    """What the patterns found in one text: the cues and, per label, the combined support in [0, 1]."""

    cues: tuple[Cue, ...]
    support: dict[str, float]
    exclamations: int
    caps_ratio: float

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.cues)


def _praise_over_trouble(text: str) -> Cue | None:
    """Praise in a turn about something going wrong reads as irony, unless the turn also says it got fixed."""
    praise = _PRAISE.search(text)
    if not praise or _RESOLVED.search(text):
        return None
    bad = _BAD_SITUATION.search(text)
    if bad:
        return Cue("praise_over_trouble", 0.55, "text", f"{praise.group(0)} ... {bad.group(0)}", _SARCASM_SUPPORTS)
    weak = _WEAK_SITUATION.search(text)
    if weak:
        return Cue("praise_over_trouble", 0.3, "text", f"{praise.group(0)} ... {weak.group(0)}", ("sarcasm",))
    return None


def find_cues(text: str) -> TextCues:
    """Match every pattern against ``text``; linear in its length.

    ``asks_for_human`` is the intent patterns' ``handover_request`` (so "no need for a human" is not one).
    """
    text = text.replace("’", "'")
    cues: list[Cue] = []
    for pat in PATTERNS:
        match = pat.regex.search(text)
        if match:
            cues.append(Cue(pat.name, pat.strength, "text", match.group(0).strip() or pat.name, pat.supports))
    irony = _praise_over_trouble(text)
    if irony is not None:
        cues.append(irony)
    irony_doubt = 1.0
    for cue in cues:
        irony_doubt *= 1.0 - cue.value if "sarcasm" in cue.supports else 1.0
    if irony_doubt <= 1.0 - SARCASTIC:
        cues = [c for c in cues if c.name != "joy_words"]  # the praise is the irony, not evidence of joy
    handover = next((i for i in detect_intents(text) if i.name == "handover_request"), None)
    if handover is not None:
        cues.append(Cue("asks_for_human", 0.3, "text", handover.evidence, ("frustration",)))
    doubt: dict[str, float] = {}
    for cue in cues:
        for label in cue.supports:
            doubt[label] = doubt.get(label, 1.0) * (1.0 - cue.value)
    letters = re.findall(r"[A-Za-z]{3,}", text)
    caps = sum(w.isupper() for w in letters) / len(letters) if letters else 0.0
    return TextCues(tuple(cues), {k: 1.0 - v for k, v in doubt.items()}, text.count("!"), caps)

"""What a turn does, beside how it feels: asks for a person, turns one down, thanks, complains, gets it at last.

Two readers, and the precise one wins:

* patterns (:func:`detect_intents`) catch the usual phrasings ("get me a human", "real person", "transfer me",
  "is there anyone else I can talk to") and read a negation in the same clause ("no need for a human", "don't
  transfer me") as ``declines_handover``; they need nothing but the text, so a policy can call them when the
  words channel has no estimate;
* :class:`IntentModel` compares the turn's MiniLM sentence embedding with short example sentences
  (``intent_examples.json``, written for this purpose and kept apart from any evaluation data) and adds recall for
  paraphrases the patterns miss, with a lower confidence. It never overrides a pattern, and a model reading that
  contradicts one (asks for a person where the words decline one) is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from empathic.perception.estimates import Intent
from empathic.perception.labels import INTENTS

EXAMPLES = Path(__file__).with_name("intent_examples.json")

_PERSON = (
    r"(?:a |an |the |your |some |one of your )?(?:real |actual |live |human |other |proper )?"
    r"(?:human(?: being)?|person|agent|manager|supervisor|representative|rep|operator|staff member|employee|boss"
    r"|superior|someone (?:more )?senior|someone in charge)\b"
)
_ANYONE = r"(?:" + _PERSON + r"|(?:someone|somebody|anyone|anybody)(?: else)?\b)"
_NEGATION = re.compile(
    r"\b(?:no need|not necessary|unnecessary|don'?t|do not|does not|doesn'?t|not|never|without|rather not|won'?t"
    r"|no longer|no)\b(?!,)",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.!?;,:]|\bbut\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _IntentPattern:
    name: str
    regex: re.Pattern[str]
    confidence: float
    negated_as: str | None = None
    """What a negation earlier in the clause turns it into (``declines_handover``), or None to drop it."""
    negatable: bool = False


def _p(name: str, pattern: str, confidence: float, *, negated_as: str | None = None, negatable: bool = False):
    return _IntentPattern(name, re.compile(pattern, re.IGNORECASE), confidence, negated_as, negatable)


PATTERNS: tuple[_IntentPattern, ...] = (
    _p(
        "declines_handover",
        r"\b(?:no need (?:for|to (?:talk|speak) (?:to|with)) " + _ANYONE + r"|(?:don'?t|do not|no need to) "
        r"(?:transfer|escalate|pass|forward|hand) (?:me|this|it)|i'?m (?:fine|happy|ok(?:ay)?|good) (?:with|talking"
        r" to) (?:you|the bot|the assistant|a bot)|(?:i'?ll|i will|let'?s) (?:stick|stay|keep going) with you"
        r"|(?:i'?d|i would) rather (?:talk to|stay with|stick with|keep talking to) you|no humans?\b)",
        0.9,
    ),
    _p(
        "handover_request",
        r"\b(?:(?:get|give|find|bring)(?: me)? "
        + _PERSON
        + r"|(?:put|connect|transfer|pass|send)(?: me)?(?: through)? (?:to|with) "
        + _ANYONE
        + r"|(?:speak|talk|chat|deal)(?:ing)? (?:to|with) "
        + _ANYONE
        + r"|(?:want|need|i'?d like|would like|demand|request|prefer|ask for)(?: to (?:have|get|see))? "
        + _PERSON
        + r"|real (?:person|human|people)|live (?:agent|person)|transfer me|escalate (?:this|it|me|my)"
        r"|is there (?:anyone|anybody|someone|somebody)(?: else)? (?:i|we) (?:can|could) (?:talk|speak)"
        r"|(?:anyone|anybody|someone|somebody) (?:else )?(?:i|we) can (?:talk|speak) to"
        r"|(?:is there )?(?:anyone|anybody|someone|somebody) else (?:who|that) (?:can|could) (?:look|help|check|deal)"
        r"|(?:call|ring|phone) me back|(?:can|could|would|will) (?:someone|somebody|anyone|you) (?:from [\w ]{1,20} )?"
        r"(?:call|ring|phone) me"
        # other languages: the words channel reads them with low confidence, but a request for a person still counts
        r"|hablar con (?:una persona|alguien|un humano|un agente|un supervisor|un encargado|un responsable)"
        r"|parler (?:à|a|avec) (?:quelqu'un|une personne|un humain|un conseiller|un responsable|un agent)"
        r"|(?:mit )?(?:einem menschen|einer person|jemandem|einem mitarbeiter|einem vorgesetzten) (?:sprechen|reden)"
        r"|parlare con (?:una persona|qualcuno|un operatore|un responsabile)"
        r"|falar com (?:uma pessoa|algu[eé]m|um atendente|um humano))",
        0.9,
        negated_as="declines_handover",
    ),
    _p(
        "handover_request",
        r"^\W*(?:human|agent|representative|operator|manager|supervisor|real person)(?:,? please)?\W*$",
        0.85,
    ),
    _p(
        "thanks",
        r"\b(?:thanks?(?: you)?(?! for nothing)|thank u|thx|ty|cheers|(?:much |really )?appreciate"
        r"(?:d| it| that| your help| you)|grateful)\b",
        0.85,
        negatable=True,
    ),
    _p(
        "closing",
        r"\b(?:bye|goodbye|good bye|see (?:you|ya)|that'?s all|that is all|that'?ll be all|have a (?:good|nice|great)"
        r" (?:day|one|evening|night|weekend)|talk (?:to you )?later|i'?m done|we'?re done|nothing else|signing off)\b",
        0.8,
    ),
    _p("greeting", r"^\W*(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening))\b", 0.85),
    _p(
        "question",
        r"\?|^\s*(?:what|why|how|which|where|when|who|can|could|would|will|is|are|does|do|did|should|may)\b",
        0.75,
    ),
    _p(
        "complaint",
        r"\b(?:unacceptable|ridiculous|(?:want|demand) (?:a |my )?refund|(?:never|hasn'?t|has not|still not|not)"
        r" (?:arrived|received|working|fixed)|(?:doesn'?t|does not|didn'?t|won'?t) work|not working|broken"
        r"|charged (?:me )?twice|double[- ]charged|overcharged|waste of (?:my )?time|worst|terrible service"
        r"|(?:fed up|sick of|tired of)|(?:want|going) to complain|complaint|still waiting|been waiting"
        r"|on hold|nobody (?:is )?(?:actually )?(?:reading|listening|helping|answer\w*)"
        r"|(?:not|isn'?t|is not) (?:ok(?:ay)?|acceptable|good enough|fair|right)|lost (?:my )?[€$£]?\d"
        r"|keep (?:telling|saying|asking|sending)|getting nowhere|(?:still|again) (?:nothing|no (?:reply|answer|news))"
        r"|(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)) (?:time|message|email|call)"
        r"|(?:nobody|no one) (?:seems to )?(?:knows?|cares?)|one-star|bad review)\b",
        0.8,
    ),
    _p(
        "correction",
        r"\b(?:that'?s (?:not (?:right|correct|true|what)|wrong|incorrect)|that is (?:not (?:right|correct|true)"
        r"|wrong|incorrect)|you'?re wrong|you are wrong|no,? i (?:said|meant|asked)|i (?:said|meant) |i didn'?t "
        r"(?:say|mean|ask)|not what i (?:said|asked|meant)|you misunderstood|wrong (?:answer|number|order|item|one))",
        0.8,
    ),
    _p(
        "answer_attempt",
        r"^\s*(?:(?:is it|would it be|could it be) [^?]{1,20}\?\s*$|is the answer|the answer is"
        r"|i think (?:it'?s|it is|the answer)"
        r"|maybe (?:it'?s|it is)|my answer is|[-+]?\d+(?:[.,/]\d+)?\s*[?.!]?\s*$|[a-z]\s*=)",
        0.75,
    ),
    _p(
        "agreement",
        r"^\W*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|alright|right|exactly|agreed|correct|absolutely|of course"
        r"|sounds good|that works|deal|fine)\b(?!,? right)",
        0.75,
    ),
    _p(
        "insight",
        r"\b(?:i (?:get|got|see|understand) it now|i get it|now i (?:get|understand|see)(?: it)?|i see now"
        r"|(?:that|it) makes (?:a lot of |so much )?sense|makes sense now|got it|a+ha+|it clicked"
        r"|the penny (?:dropped|drops)|i understand now|oh+,? i see|oh+,? (?:right|okay|ok)\b)",
        0.85,
        negatable=True,
    ),
)


_NARRATED = re.compile(
    r"\b(?:talked|spoke|spoken|chatted|dealt|was|were|had|already (?:asked|talked|spoke)|told me)\b", re.IGNORECASE
)
"""A person mentioned in a report of the past ("I talked to a real person yesterday") is not a request for one."""


def _narrated(text: str, start: int) -> bool:
    clause_start = 0
    for m in _CLAUSE_END.finditer(text, max(0, start - 80), start):
        clause_start = m.end()
    return bool(_NARRATED.search(text, clause_start, start))


def _negated(text: str, start: int) -> bool:
    """Whether a negation stands earlier in the clause that ends at ``start``."""
    clause_start = 0
    for m in _CLAUSE_END.finditer(text, max(0, start - 80), start):
        clause_start = m.end()
    return bool(_NEGATION.search(text, clause_start, start))


def detect_intents(text: str) -> tuple[Intent, ...]:
    """Intents the patterns find in ``text``, strongest first; no model, microseconds."""
    text = text[-2000:].replace("’", "'")
    best: dict[str, Intent] = {}
    for pat in PATTERNS:
        m = pat.regex.search(text)
        if not m:
            continue
        name = pat.name
        if name == "handover_request" and _narrated(text, m.start()):
            continue
        if (pat.negated_as or pat.negatable) and _negated(text, m.start()):
            if pat.negated_as is None:
                continue
            name = pat.negated_as
        if name not in best or best[name].confidence < pat.confidence:
            best[name] = Intent(name, pat.confidence, m.group(0).strip() or name)
    if "declines_handover" in best:
        best.pop("handover_request", None)
    return tuple(sorted(best.values(), key=lambda i: -i.confidence))


class IntentModel:
    """Nearest example sentences on the MiniLM sentence embedding (layer 6), with a "none" class.

    Each class scores the mean cosine similarity of its two nearest examples. The best class is reported when it
    is not "none", scores at least :attr:`MIN_SCORE` and leads the runner-up by :attr:`MIN_MARGIN`; its confidence
    grows with score and lead but stays below a pattern's, because a paraphrase is less sure. The thresholds were
    set by hand on paraphrases written for the purpose, not on evaluation data.
    """

    MIN_SCORE = 0.38
    MIN_MARGIN = 0.05
    MAX_CONFIDENCE = 0.7

    def __init__(self, names: list[str], examples: list[str], vectors: np.ndarray) -> None:
        self.classes = sorted(set(names))
        self.names = np.array([self.classes.index(n) for n in names])
        self.examples = examples
        self.vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    @classmethod
    def fit(cls, encode: Callable[[list[str]], np.ndarray], path: Path = EXAMPLES) -> IntentModel:
        """Embed the example sentences with ``encode`` (texts -> (n, 384) layer-6 embeddings)."""
        data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(data) - set(INTENTS) - {"none"}
        if unknown:
            raise ValueError(f"{path.name}: unknown intents {sorted(unknown)}")
        names = [n for n, sentences in data.items() for _ in sentences]
        examples = [s for sentences in data.values() for s in sentences]
        return cls(names, examples, np.asarray(encode(examples), np.float32))

    def predict(self, embedding: np.ndarray) -> Intent | None:
        """The intent the embedding's nearest examples point to, or None."""
        v = embedding / max(float(np.linalg.norm(embedding)), 1e-9)
        sims = self.vectors @ v
        scores = np.zeros(len(self.classes))
        nearest = np.zeros(len(self.classes), int)
        for k in range(len(self.classes)):
            idx = np.flatnonzero(self.names == k)
            top = idx[np.argsort(sims[idx])[::-1][:2]]
            scores[k], nearest[k] = float(sims[top].mean()), int(top[0])
        second, best = np.argsort(scores)[-2:]
        margin = float(scores[best] - scores[second])
        if self.classes[best] == "none" or scores[best] < self.MIN_SCORE or margin < self.MIN_MARGIN:
            return None
        confidence = min(self.MAX_CONFIDENCE, 0.3 + 1.5 * margin + float(scores[best]) - self.MIN_SCORE)
        return Intent(self.classes[best], round(confidence, 4), f'like "{self.examples[nearest[best]]}"')


def merge(patterns: tuple[Intent, ...], model: Intent | None) -> tuple[Intent, ...]:
    """Patterns first; the model's intent joins when patterns did not find it and do not contradict it."""
    names = {i.name for i in patterns}
    if model is None or model.name in names:
        return patterns
    if {model.name, *names} >= {"handover_request", "declines_handover"}:
        return patterns
    return tuple(sorted((*patterns, model), key=lambda i: -i.confidence))

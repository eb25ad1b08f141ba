"""Which language a turn is in, cheaply: the script of its letters, else its stopwords.

The text models read English. A turn in another language still gets an estimate, but with low confidence and a
``language`` cue, so nobody mistakes "No entiendo nada" for a calm, confident neutral. Only languages we can name
with a few dozen stopwords or a script are told apart; anything unclear counts as English.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and is are was were you your i me my it this that what how why with for not have has do does don't "
        "can can't of to in on at be but just so very please thanks thank want need get know"
    ),
    "es": _words(
        "el la los las es son está estoy esta este esto por para pero que qué cómo como muy nada gracias tengo "
        "quiero puedo hola sí yo mi tu su entiendo funciona del al con una uno porque también ya hay"
    ),
    "fr": _words(
        "le la les est sont je tu il elle nous vous ne pas que qui quoi comment très rien merci avec pour dans "
        "une un des du au c'est j'ai suis bonjour oui mais ça ce cette comprends"
    ),
    "de": _words(
        "der die das ist sind ich du er sie wir ihr nicht nichts was wie warum sehr danke mit für und ein eine "
        "kein keine bitte ja nein aber auch verstehe funktioniert habe bin es"
    ),
    "it": _words(
        "il lo gli è sono io tu lui lei noi voi non che cosa come perché molto niente grazie con per una uno "
        "della ciao sì ma anche capisco funziona ho sono questo questa"
    ),
    "pt": _words(
        "o os as é são eu você ele ela nós não que como muito nada obrigado obrigada com para uma um do da "
        "olá sim mas também entendo funciona tenho estou isso esta"
    ),
    "nl": _words(
        "de het een is zijn ik jij je hij zij wij niet niets wat hoe waarom erg dank bedankt met voor en "
        "geen alsjeblieft ja nee maar ook begrijp werkt heb ben dit dat"
    ),
}
_ENGLISH_LOOKALIKES = _words("as is was die on me son do da it in be an am he we no so per con come ma lo")
"""Words of other languages that are also common English words: they prove nothing."""
_MARKS = {"es": "ñ¿¡", "de": "ßäöü", "fr": "œçèêàù", "pt": "ãõç", "it": "ìòù"}
_SCRIPTS = (
    ("ru", "\u0400-\u04ff"),
    ("el", "\u0370-\u03ff"),
    ("he", "\u0590-\u05ff"),
    ("ar", "\u0600-\u06ff"),
    ("hi", "\u0900-\u097f"),
    ("th", "\u0e00-\u0e7f"),
    ("ko", "\uac00-\ud7af\u1100-\u11ff"),
    ("ja", "\u3040-\u30ff"),
    ("zh", "\u4e00-\u9fff"),
)
_STOPWORDS = {code: words if code == "en" else words - _ENGLISH_LOOKALIKES for code, words in _STOPWORDS.items()}
_SCRIPT_RES = tuple((code, re.compile(f"[{chars}]")) for code, chars in _SCRIPTS)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def detect_language(text: str) -> str:
    """An ISO 639-1 code ("en" when English or unclear); reads at most the first 2,000 characters.

    Latin-script text needs two distinct stopwords of one language, more than 1.5 times its English ones."""
    text = text[:2000].lower().replace("’", "'")
    letters = len(_LETTER.findall(text))
    if not letters:
        return "en"
    for code, script in _SCRIPT_RES:
        if len(script.findall(text)) >= 0.4 * letters:
            return "ja" if code == "zh" and re.search("[\u3040-\u30ff]", text) else code
    words = _WORD.findall(text)
    distinct = set(words)
    hits = {code: len(distinct & stop) for code, stop in _STOPWORDS.items()}
    for code, marks in _MARKS.items():
        if any(c in text for c in marks):
            hits[code] += 1
    best = max((c for c in hits if c != "en"), key=hits.__getitem__)
    if hits[best] >= 2 and hits[best] > 1.5 * hits["en"] and hits[best] >= 0.25 * len(distinct):
        return best
    return "en"

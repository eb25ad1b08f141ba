"""Redaction of personal data in anything exported: transcripts, timelines, logs.

Emails, phone numbers and payment card numbers (checked with the Luhn sum, so order numbers survive) are replaced
by a tag naming what was removed.
"""

from __future__ import annotations

import re
from typing import Any

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")


def _phone(match: re.Match[str]) -> str:
    """A phone number has 7-15 digits and is written with a '+', brackets or separators; dates are not phones."""
    found = match.group(0)
    digits = re.sub(r"\D", "", found)
    written_as_phone = found.startswith("+") or "(" in found or re.search(r"\d[ .-]\d", found)
    if not 7 <= len(digits) <= 15 or not written_as_phone or _DATE.fullmatch(found.strip()):
        return found
    return "[phone]"


def redact(text: str) -> str:
    """``text`` with emails, card numbers and phone numbers replaced by ``[email]``, ``[card]``, ``[phone]``."""
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


def redact_record(value: Any) -> Any:
    """Redact every string inside a JSON-ready value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_record(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_record(v) for v in value]
    return value

"""How a reply is spoken, from the directive: the tone's row of ``TONE_TABLE`` scaled by the directive's pacing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from empathic.policies import ToneDirective
from empathic.policies.moves import TONE_TABLE

PACING: Final[dict[str, tuple[float, float]]] = {"slow": (0.88, 1.6), "normal": (1.0, 1.0), "brisk": (1.08, 0.7)}
"""Pacing -> (factor on the tone's speaking rate, factor on its pauses between sentences)."""


@dataclass(frozen=True, slots=True)
class VoiceProsody:
    """What a speaker is told: rate factor, pitch shift (semitones), variation factor, gain (dB), pause (s)."""

    rate: float = 1.0
    pitch_st: float = 0.0
    variation: float = 1.0
    gain_db: float = 0.0
    pause_s: float = 0.3

    def __post_init__(self) -> None:
        if not (0.3 <= self.rate <= 3.0 and -12 <= self.pitch_st <= 12 and 0 <= self.variation <= 3):
            raise ValueError(f"prosody out of range: {self}")
        if self.pause_s < 0:
            raise ValueError("pause_s must be >= 0")


def prosody_for(tone: str, pacing: str = "normal") -> VoiceProsody:
    """The prosody of ``tone`` (a ``TONE_TABLE`` key) at ``pacing`` (slow, normal, brisk)."""
    spec = TONE_TABLE[tone]
    rate, pause = PACING[pacing]
    return VoiceProsody(spec.rate * rate, spec.pitch_st, spec.variation, spec.gain_db, spec.pause_s * pause)


def directive_prosody(directive: ToneDirective) -> VoiceProsody:
    return prosody_for(directive.tone, directive.pacing)

"""The modalities: one table that labels, consent, compliance and fusion all read.

A modality is a kind of evidence about how someone feels. Each row says which consent channel it needs, whether it
infers emotion from the body (face, posture, voice: switched off where the EU AI Act prohibits that), and the fusion
defaults: how much it is trusted, how fast its evidence fades and when it is stale (media seconds). A new modality is
one row here; anything that names a modality not in the table fails when it is built, never silently later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Channel = Literal["camera", "microphone", "text"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)


@dataclass(frozen=True, slots=True)
class Modality:
    """One row of the table. ``reliability`` is the hand-set default; ``perception/fusion_settings.json`` replaces it
    for the modalities fitted by ``empathic eval fusion --nested`` (face, voice)."""

    name: str
    channel: Channel
    biometric: bool
    reliability: float
    half_life_s: float
    stale_after_s: float


MODALITY_TABLE: Final[dict[str, Modality]] = {
    m.name: m
    for m in (
        Modality("face", "camera", biometric=True, reliability=0.7, half_life_s=0.6, stale_after_s=2.0),
        Modality("body", "camera", biometric=True, reliability=0.4, half_life_s=1.5, stale_after_s=5.0),
        Modality("voice", "microphone", biometric=True, reliability=1.0, half_life_s=4.0, stale_after_s=15.0),
        Modality("text", "text", biometric=False, reliability=0.9, half_life_s=1.5, stale_after_s=20.0),
    )
}
MODALITIES: Final[tuple[str, ...]] = tuple(MODALITY_TABLE)


def modality(name: str) -> Modality:
    """The row of ``name``; a clear error for a modality nobody declared."""
    try:
        return MODALITY_TABLE[name]
    except KeyError:
        raise ValueError(
            f"unknown modality {name!r}: declare it in empathic.perception.modalities.MODALITY_TABLE "
            f"(known: {', '.join(MODALITIES)})"
        ) from None


def channel_modalities(channel: Channel) -> tuple[str, ...]:
    """What a channel feeds: revoking the camera forgets face and body evidence, and so on."""
    return tuple(m.name for m in MODALITY_TABLE.values() if m.channel == channel)

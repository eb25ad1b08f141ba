"""Consent per channel: nothing from a camera, microphone or typed words is analysed unless its channel is granted.

Consent is revocable at any time; every change is recorded with its media time so a host can show the person
what they agreed to and when. Revoking a channel also forgets what was derived from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from empathic.perception import CHANNELS, AudioChunk, Channel, Observation, TextTurn, VideoFrame
from empathic.perception.modalities import channel_modalities

# What each channel feeds: revoking the camera forgets face and body evidence, and so on.
CHANNEL_MODALITIES: dict[Channel, tuple[str, ...]] = {c: channel_modalities(c) for c in CHANNELS}


def channel_of(obs: Observation) -> Channel:
    if isinstance(obs, VideoFrame):
        return "camera"
    if isinstance(obs, AudioChunk):
        return "microphone"
    if isinstance(obs, TextTurn):
        return "text"
    raise TypeError(f"not an observation: {type(obs).__name__}")


@dataclass(frozen=True, slots=True)
class ConsentChange:
    t: float
    channel: Channel
    granted: bool


class ConsentLedger:
    """Which channels the person has granted, and the history of every change."""

    def __init__(self, granted: Iterable[Channel] = ()) -> None:
        self._granted: set[Channel] = set()
        self._history: list[ConsentChange] = []
        for channel in granted:
            self.set(channel, True, 0.0)

    @classmethod
    def all_granted(cls) -> ConsentLedger:
        """For hosts that asked already, and for replaying one's own recordings."""
        return cls(CHANNELS)

    def set(self, channel: Channel, granted: bool, t: float) -> bool:
        """Grant or revoke ``channel`` at media time ``t``; returns True when this changed anything."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
        if (channel in self._granted) == granted:
            return False
        (self._granted.add if granted else self._granted.discard)(channel)
        self._history.append(ConsentChange(t, channel, granted))
        return True

    def allows(self, obs: Observation) -> bool:
        return channel_of(obs) in self._granted

    def granted(self, channel: Channel) -> bool:
        return channel in self._granted

    @property
    def history(self) -> tuple[ConsentChange, ...]:
        return tuple(self._history)

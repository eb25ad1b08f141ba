"""Which voice a setting means: the registry's piper voice, else the espeak-ng program."""

from __future__ import annotations

import functools
import logging

from empathic.agent.speech.espeak import EspeakSpeaker
from empathic.agent.speech.piper import DEFAULT_VOICE, PiperSpeaker
from empathic.agent.speech.speaker import Speaker
from empathic.perception import ModelNotFound

log = logging.getLogger(__name__)
VOICES = ("auto", "piper", "espeak")


@functools.cache
def build_speaker(voice: str = "auto") -> Speaker:
    """``piper``: the registry voice (fetched); ``espeak``: espeak-ng; ``auto``: piper when fetched, else espeak.

    One speaker per voice per process, shared by every session: its model loads once and synthesis is
    thread-safe (onnxruntime runs concurrently; the phonemizer process is behind a lock)."""
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}; expected one of {VOICES}")
    if voice == "espeak":
        return EspeakSpeaker()
    try:
        return PiperSpeaker(DEFAULT_VOICE)
    except ModelNotFound:
        if voice == "piper":
            raise
        log.warning("voice %s not fetched (`empathic models fetch %s`): speaking with espeak-ng", *[DEFAULT_VOICE] * 2)
        return EspeakSpeaker()

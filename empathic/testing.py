"""Test doubles for the session's seams, driven by media time, so a test of your own component is deterministic.

- :class:`ScriptedPerceiver`: from each scripted media time on, says that estimate; records the time of every call.
- :class:`FailingPerceiver`: raises on every observation, to test that a session goes on without a component.
- :class:`ScriptedTranscriber`: turns audio chunks into the scripted utterances at the scripted times.
- :class:`LoudnessVad`: a voice-activity detector without a model: a frame is speech when it is loud.
- :class:`FailingResponder`: streams some chunks, then raises, to test the template fallback.
- :class:`ManualClock`: the latency clock that moves only when told to.
- :class:`ToneSpeaker`: a voice without a model: a deterministic voiced tone per syllable, following the prosody.

Wire them into an ``AgentSession`` beside the component under test and replay observations with
``empathic.perception.sources.replay``: the same input gives the same events every time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig

from empathic.agent.speech import Speaker, VoiceProsody
from empathic.perception import (
    AudioChunk,
    ManualClock,
    ModalityEstimate,
    Observation,
    PerceiverCapabilities,
    TextTurn,
    VideoFrame,
)
from empathic.perception.transcriber import Utterance

__all__ = [
    "FailingPerceiver",
    "FailingResponder",
    "LoudnessVad",
    "ManualClock",
    "ScriptedPerceiver",
    "ScriptedTranscriber",
    "ToneSpeaker",
]


class ScriptedPerceiver:
    """Says the estimate scripted for the latest time at or before each observation, re-stamped at its time.

    ``script`` pairs media times with estimates of one modality; before the first time it says nothing (None).
    ``calls`` holds the media time of every observation it was given.
    """

    def __init__(
        self,
        script: Sequence[tuple[float, ModalityEstimate]],
        *,
        name: str = "scripted",
        accepts: tuple[type, ...] = (VideoFrame,),
        max_rate_hz: float = 0.0,
    ) -> None:
        modalities = {estimate.modality for _, estimate in script}
        if len(modalities) != 1:
            raise ValueError(f"a script needs estimates of exactly one modality, got {sorted(modalities)}")
        self.script = sorted(script, key=lambda step: step[0])
        self.name = name
        self.capabilities = PerceiverCapabilities(modalities.pop(), accepts, max_rate_hz)
        self.calls: list[float] = []

    async def perceive(self, obs: Observation) -> ModalityEstimate | None:
        self.calls.append(obs.t)
        said = [estimate for t, estimate in self.script if t <= obs.t]
        return replace(said[-1], t=obs.t) if said else None


class FailingPerceiver:
    """Raises ``error`` on every observation it accepts."""

    def __init__(
        self,
        error: Exception,
        *,
        name: str = "failing",
        modality: str = "face",
        accepts: tuple[type, ...] = (VideoFrame,),
    ) -> None:
        self.error = error
        self.name = name
        self.capabilities = PerceiverCapabilities(modality, accepts)

    async def perceive(self, obs: Observation) -> ModalityEstimate | None:
        raise self.error.with_traceback(None)


class ScriptedTranscriber:
    """Ends each scripted utterance at the first audio chunk at or after its time, stamped with the chunk's time.

    ``script`` holds ``(t, text)`` or ``(t, text, estimates)``, the estimates being what the same audio showed (a
    vocal emotion, say); utterances still pending when the stream ends come out at their own times on ``flush``.
    """

    def __init__(
        self,
        script: Sequence[tuple[float, str] | tuple[float, str, Sequence[ModalityEstimate]]],
        *,
        name: str = "scripted-asr",
    ) -> None:
        self.pending = [(step[0], step[1], tuple(step[2]) if len(step) > 2 else ()) for step in script]
        self.name = name
        self.resets = 0
        self._dropping = False

    def reset(self) -> None:
        """The microphone was revoked: utterances due by the next chunk were spoken meanwhile and are dropped."""
        self.resets += 1
        self._dropping = True

    async def feed(self, chunk: AudioChunk) -> list[Utterance]:
        if self._dropping:
            self._dropping = False
            self.pending = [step for step in self.pending if step[0] > chunk.t]
        ready = [step for step in self.pending if step[0] <= chunk.t]
        self.pending = [step for step in self.pending if step[0] > chunk.t]
        return [Utterance(TextTurn(chunk.t, text, source="asr"), estimates) for _, text, estimates in ready]

    async def flush(self) -> list[Utterance]:
        out = [Utterance(TextTurn(t, text, source="asr"), estimates) for t, text, estimates in self.pending]
        self.pending = []
        return out


class LoudnessVad:
    """Speech wherever a frame's RMS exceeds ``level``: deterministic, and unable to tell whose voice it hears, so a
    test of the segmenter or the barge-in detector shows what they decide themselves."""

    name = "loudness"

    def __init__(self, level: float = 0.02, frame_size: int = 512) -> None:
        self.level = level
        self.frame_size = frame_size

    def probability(self, frame: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.square(frame, dtype=np.float64))) > self.level)

    def reset(self) -> None:
        return None


class FailingResponder(Runnable[Any, str]):
    """Streams the ``before`` chunks, then raises ``error`` (a model that times out mid-reply, by default)."""

    def __init__(
        self, before: Sequence[str] = (), error: Exception | None = None, *, name: str = "failing-responder"
    ) -> None:
        self.before = list(before)
        self.error = error or TimeoutError("LLM timed out")
        self.name = name

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> str:
        raise self.error.with_traceback(None)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[str]:
        for piece in self.before:
            yield piece
        raise self.error.with_traceback(None)


class ToneSpeaker(Speaker):
    """Speaks every syllable (a vowel group of each word) as a harmonic tone, the same every time.

    At rate 1 a syllable lasts ``syllable_s`` with a short gap after it and a longer one after each word; pitch is
    ``f0`` shifted by the prosody's semitones, with a vibrato whose depth follows its variation. ``calls`` holds
    every sentence it was asked for.
    """

    name = "tone"

    def __init__(self, sample_rate: int = 16000, *, f0: float = 120.0, syllable_s: float = 0.16) -> None:
        self.sample_rate = sample_rate
        self.f0 = f0
        self.syllable_s = syllable_s
        self.calls: list[str] = []

    def synthesize(self, sentence: str, prosody: VoiceProsody) -> np.ndarray:
        self.calls.append(sentence)
        sr, scale = self.sample_rate, 1.0 / prosody.rate
        f0 = self.f0 * 2 ** (prosody.pitch_st / 12)
        t = np.arange(int(self.syllable_s * scale * sr)) / sr
        pitch = f0 * (1 + 0.03 * prosody.variation * np.sin(2 * np.pi * 5 * t))
        phase = 2 * np.pi * np.cumsum(pitch) / sr
        tone = sum(np.sin(k * phase) / k for k in (1, 2, 3)) * np.hanning(t.size) * 0.3
        gap, word_gap = np.zeros(int(0.04 * scale * sr)), np.zeros(int(0.08 * scale * sr))
        pieces: list[np.ndarray] = []
        for word in sentence.split():
            syllables = max(1, len(re.findall(r"[aeiouy]+", word.lower())))
            pieces += [tone, gap] * syllables + [word_gap]
        return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)

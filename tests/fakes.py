"""Scripted fakes for the session's seams, driven by media timestamps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from empathic.perception import AudioChunk, Episode, ModalityEstimate, PerceiverCapabilities, TextTurn, VideoFrame
from empathic.perception.transcriber import Utterance
from langchain_core.runnables import Runnable


class ScriptedFacePerceiver:
    """Says 'happy' for frames before ``switch_t`` and 'angry' after; counts its calls."""

    name = "scripted-face"

    def __init__(self, switch_t: float = 1e9, rate_hz: float = 0.0) -> None:
        self.switch_t = switch_t
        self.calls: list[float] = []
        self.capabilities = PerceiverCapabilities("face", (VideoFrame,), max_rate_hz=rate_hz)

    async def perceive(self, obs):
        self.calls.append(obs.t)
        label = "happy" if obs.t < self.switch_t else "angry"
        return ModalityEstimate(
            "face", obs.t, {label: 1.0}, 0.7 if label == "happy" else -0.6, 0.4, 0.9, source=self.name
        )


class CrashingPerceiver:
    name = "crashy"
    capabilities = PerceiverCapabilities("face", (VideoFrame, TextTurn))

    async def perceive(self, obs):
        raise RuntimeError("model exploded")


class ScriptedTranscriber:
    """Emits a scripted utterance at the first chunk at or after each of its times."""

    name = "scripted-asr"

    def __init__(self, script: Sequence[tuple[float, str]]) -> None:
        self.pending = list(script)

    async def feed(self, chunk: AudioChunk):
        ready = [(t, s) for t, s in self.pending if t <= chunk.t]
        self.pending = [p for p in self.pending if p not in ready]
        return [Utterance(TextTurn(chunk.t, s, source="asr"), (self._voice(chunk.t),)) for _, s in ready]

    async def flush(self):
        out = [Utterance(TextTurn(t, s, source="asr")) for t, s in self.pending]
        self.pending = []
        return out

    @staticmethod
    def _voice(t: float) -> ModalityEstimate:
        """A sad voice with one brief episode, as a vocal-emotion head might report."""
        episode = Episode("micro_expression", t - 0.3, t - 0.2, t - 0.1, ("AU15",), 0.6)
        return ModalityEstimate("voice", t, {"sad": 1.0}, -0.6, -0.3, 0.8, source="scripted-voice", episodes=(episode,))


class BrokenResponder(Runnable):
    """Streams ``before`` chunks, then raises."""

    name = "broken-llm"

    def __init__(self, before: Sequence[str] = ()) -> None:
        self.before = list(before)

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> str:
        raise TimeoutError("LLM timed out")

    async def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[str]:
        for piece in self.before:
            yield piece
        raise TimeoutError("LLM timed out")

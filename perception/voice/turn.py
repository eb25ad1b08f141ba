"""End of turn from what was said, not only from silence: Smart Turn v3.2 combined with the VAD's silence.

Silence alone must wait long enough not to cut a mid-sentence pause ("I want to... return it"), so every finished
turn pays that wait too. Smart Turn (Pipecat's BSD-2-Clause model, int8 ONNX, weights from the model registry)
reads the last 8 s of audio and says whether the turn sounds complete: once ``check_s`` of silence follows speech
it is asked once, a complete turn ends there, an incomplete one waits up to ``max_wait_s`` for more speech. Without
the weights the rule falls back to silence alone (``max_wait_s``).

Smart Turn alone calls most phrases broken off mid-sentence complete on synthetic speech (``empathic bench turns``:
85 % of "I want to ... return it" pauses cut), so a turn ends early only when its pitch also fell at the end: the
last voiced 80 ms at least ``final_drop_st`` below the turn's median (statements end low; a phrase broken off does
not). Where the pitch cannot be measured, Smart Turn decides alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Literal, Protocol

import numpy as np
from empathic.perception.device import onnx_session
from empathic.perception.errors import ModelError
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.voice.audio import RATE
from empathic.perception.voice.prosody import final_lowering
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

WINDOW_S = 8
"""Smart Turn reads the last 8 s (shorter audio is zero-padded in front)."""


class TurnConfig(BaseModel):
    """When a pause ends the user's turn."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["auto", "smart-turn", "silence"] = Field(
        "auto", description="'auto': Smart Turn when its weights are fetched, else silence alone"
    )
    check_s: float = Field(0.2, gt=0.0, description="silence after speech before the model is asked")
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="probability of 'complete' that ends the turn")
    max_wait_s: float = Field(1.0, gt=0.0, description="silence that ends the turn whatever the model says")
    final_drop_st: float | None = Field(
        3.0, description="fall of the final pitch below the turn's median (semitones) a complete turn needs too"
    )


class TurnModel(Protocol):
    """Probability that the speaker has finished, from 16 kHz mono audio ending now."""

    name: str

    def probability(self, audio: np.ndarray) -> float: ...


@cache
def _extractor() -> Callable[..., np.ndarray]:
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor(feature_size=80, sampling_rate=RATE, chunk_length=WINDOW_S)


def smart_turn_features(audio: np.ndarray) -> np.ndarray:
    """Whisper log-mel features (80 x 800) of the last 8 s, as Smart Turn was trained on.

    The audio is zero-padded in front to 8 s and normalised to zero mean and unit variance before the spectrogram,
    as Pipecat's ``LocalSmartTurnAnalyzerV3`` does; the spectrogram is faster-whisper's.
    """
    if audio.ndim != 1:
        raise ValueError(f"expected 1-D 16 kHz audio, got shape {audio.shape}")
    n = WINDOW_S * RATE
    x = np.asarray(audio, dtype=np.float32)[-n:]
    x = np.pad(x, (n - x.size, 0))
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    return _extractor()(x, padding=0).astype(np.float32)


class SmartTurn:
    """Smart Turn v3.2 run by onnxruntime (about 10-30 ms per call on one core)."""

    name = "smart-turn-v3.2"

    def __init__(self, registry: ModelRegistry | None = None, threads: int = 1) -> None:
        self._session = onnx_session((registry or default_registry()).file("smart-turn-v3"), threads=threads)

    def probability(self, audio: np.ndarray) -> float:
        (out,) = self._session.run(None, {"input_features": smart_turn_features(audio)[None]})
        return float(out[0, 0])


@cache
def _shared_smart_turn() -> SmartTurn:
    """One Smart Turn per process for pipelines on the default registry (onnxruntime runs calls concurrently)."""
    return SmartTurn()


def load_turn_model(config: TurnConfig, registry: ModelRegistry | None = None) -> TurnModel | None:
    """The configured model; None means silence alone (``silence``, or ``auto`` without the weights)."""
    if config.model == "silence":
        return None
    try:
        return SmartTurn(registry) if registry is not None else _shared_smart_turn()
    except ModelError as exc:
        if config.model == "smart-turn":
            raise
        log.warning("Smart Turn unavailable (%s); turns end after %.1f s of silence", exc, config.max_wait_s)
        return None


class TurnEndRule:
    """Decides, frame by frame of trailing silence, whether the open turn has ended.

    ``ended`` is called with the silence so far and a function giving the turn's audio; the model runs at most once
    per pause (the audio only changes when speech resumes, which starts a new pause via :meth:`speech`).
    """

    def __init__(self, model: TurnModel | None, config: TurnConfig | None = None) -> None:
        self.model = model
        self.config = config or TurnConfig()
        self.probability: float | None = None
        """The model's answer for the current pause (None before it was asked or without a model)."""
        self._complete = False
        """Whether the current pause ends the turn before ``max_wait_s``: the model says complete, the pitch fell."""

    def speech(self) -> None:
        """Speech (re)started: the next pause is judged afresh."""
        self.probability = None

    def ended(self, silence_s: float, audio: Callable[[], np.ndarray]) -> bool:
        cfg = self.config
        if silence_s >= cfg.max_wait_s:
            return True
        if self.model is None or silence_s < cfg.check_s:
            return False
        if self.probability is None:
            x = audio()
            self.probability = self.model.probability(x)
            self._complete = self.probability >= cfg.threshold and self._fell(x)
        return self._complete

    def _fell(self, audio: np.ndarray) -> bool:
        """Whether the pitch fell at the end (also when it cannot be measured or the check is off); measured only
        for pauses the model calls complete."""
        if self.config.final_drop_st is None:
            return True
        drop = final_lowering(audio[-WINDOW_S * RATE :])
        return drop is None or drop >= self.config.final_drop_st

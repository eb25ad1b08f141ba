"""The speech pipeline: audio chunks in, transcribed utterances with a vocal-emotion estimate out.

Implements :class:`perception.transcriber.Transcriber` and :class:`~perception.transcriber.HearsPlayback`. Each chunk
is converted to 16 kHz mono, run through the VAD-driven :class:`Segmenter` (turn ends from Smart Turn plus silence,
barge-in judged against what the agent plays), and every utterance that ended is transcribed; the same encoder pass
yields the embedding for the emotion head, and prosody is read against the speaker's baseline. Models load on the
first chunk, so a text-only session never pays for them. All model work runs in a worker thread. The models
(Whisper, Silero's network, the emotion head, Smart Turn) are shared by every pipeline of the process built without
a registry of its own; a pipeline holds only its stream: the segmenter, the VAD state, the speaker's baseline.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from empathic.perception.errors import ObservationError
from empathic.perception.estimates import Cue, ModalityEstimate
from empathic.perception.labels import valence_arousal
from empathic.perception.observations import AudioChunk, TextTurn
from empathic.perception.registry import ModelRegistry
from empathic.perception.transcriber import Utterance
from empathic.perception.voice.asr import AsrBackend, Transcription, load_backend, shared_backend
from empathic.perception.voice.audio import check_signal, chunk_to_mono16k
from empathic.perception.voice.bargein import BargeIn, BargeInConfig, BargeInDetector
from empathic.perception.voice.emotion import (
    HIGH_AROUSAL,
    TO_BASIC,
    LinearHead,
    SpeakerNormaliser,
    load_head,
    shared_head,
    to_basic,
)
from empathic.perception.voice.prosody import Prosody, ProsodyAnalyzer
from empathic.perception.voice.segmenter import Segment, Segmenter, SegmenterConfig
from empathic.perception.voice.turn import TurnConfig, TurnEndRule, TurnModel, load_turn_model
from empathic.perception.voice.vad import Vad, load_vad
from pydantic import BaseModel, ConfigDict, Field


class VoiceConfig(BaseModel):
    """How speech is heard; every default works offline once ``empathic models fetch`` has run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asr: str = Field("faster-whisper", description="faster-whisper[:DIR], openai-whisper[:NAME] or transformers:ID")
    language: str | None = Field(None, description="ISO code to force a language; None detects it per utterance")
    vad: Literal["auto", "silero", "webrtc"] = "auto"
    emotion: Literal["head", "prosody"] = Field(
        "head", description="'head': Whisper-embedding head (non-commercial weights); 'prosody': arousal and cues only"
    )
    commercial: bool = Field(False, description="refuse weights whose licence forbids commercial use")
    segmenter: SegmenterConfig = Field(default_factory=SegmenterConfig)
    turn: TurnConfig = Field(default_factory=TurnConfig)
    barge_in: BargeInConfig = Field(default_factory=BargeInConfig)


@dataclass(frozen=True, slots=True)
class VoiceReading:
    """Everything one utterance's audio gave: words, the fused voice estimate, and the parts behind it."""

    transcription: Transcription
    estimate: ModalityEstimate
    head_probs: dict[str, float] | None
    prosody: Prosody | None


class SpeechPipeline:
    """VAD -> segmentation -> Whisper -> vocal emotion, as a :class:`Transcriber`."""

    name = "speech"

    def __init__(
        self,
        config: VoiceConfig | None = None,
        *,
        registry: ModelRegistry | None = None,
        backend: AsrBackend | None = None,
        vad: Vad | None = None,
        head: LinearHead | None = None,
        turn_model: TurnModel | None = None,
        speaker: str = "user",
    ) -> None:
        self.config = config or VoiceConfig()
        self.registry = registry
        self.speaker = speaker
        self.prosody = ProsodyAnalyzer()
        self._backend, self._vad, self._head = backend, vad, head
        self._turn_model, self._turn_loaded = turn_model, turn_model is not None
        self._segmenter: Segmenter | None = None
        self._barge_in: BargeInDetector | None = None
        self.on_barge_in: Callable[[BargeIn], object] | None = None
        """Called on the event loop with each :class:`BargeIn` that :meth:`feed` found (the host stops playback)."""
        self._normalisers: dict[str, SpeakerNormaliser] = {}
        self._lock = threading.Lock()

    # -- lazy model loading --------------------------------------------------------------------------------------
    def load(self) -> None:
        """Load every model now (otherwise the first chunk does); raises if one is missing."""
        cfg, own = self.config, self.registry is not None
        if self._backend is None:
            embed = cfg.emotion == "head"  # prosody alone reads no embedding
            if own:
                self._backend = load_backend(cfg.asr, language=cfg.language, registry=self.registry, embed=embed)
            else:
                self._backend = shared_backend(cfg.asr, cfg.language, embed)
        if self._vad is None:
            self._vad = load_vad(cfg.vad, self.registry)
        if self._head is None and cfg.emotion == "head":
            self._head = load_head(self.registry, commercial=cfg.commercial) if own else shared_head(cfg.commercial)
        if not self._turn_loaded:
            self._turn_model, self._turn_loaded = load_turn_model(cfg.turn, self.registry), True
        if self._segmenter is None:
            turn = TurnEndRule(self._turn_model, cfg.turn) if self._turn_model is not None else None
            self._segmenter = Segmenter(self._vad, cfg.segmenter, turn=turn, barge_in=self._detector)

    @property
    def backend(self) -> AsrBackend:
        self.load()
        assert self._backend is not None
        return self._backend

    @property
    def vad(self) -> Vad:
        self.load()
        assert self._vad is not None
        return self._vad

    @property
    def turn_model(self) -> TurnModel | None:
        """The end-of-turn model; None when silence alone ends turns."""
        self.load()
        return self._turn_model

    # -- HearsPlayback ------------------------------------------------------------------------------------------
    def play(self, samples: np.ndarray, sample_rate: int, t: float) -> None:
        """The agent plays ``samples`` from media time ``t`` (the microphone's clock) on."""
        self._detector.play(samples, sample_rate, t)

    def stop_playback(self, t: float) -> None:
        """Playback was cut at media time ``t``."""
        self._detector.stop(t)

    @property
    def _detector(self) -> BargeInDetector:
        if self._barge_in is None:  # before the first chunk: models need not load for this
            self._barge_in = BargeInDetector(self.config.barge_in)
        return self._barge_in

    # -- Transcriber ---------------------------------------------------------------------------------------------
    async def feed(self, chunk: AudioChunk) -> Sequence[Utterance]:
        utterances = await asyncio.to_thread(self.feed_sync, chunk)
        for barge_in in self._detector.take():
            if self.on_barge_in is not None:
                self.on_barge_in(barge_in)
        return utterances

    async def flush(self) -> Sequence[Utterance]:
        return await asyncio.to_thread(self.flush_sync)

    def reset(self) -> None:
        """Drop buffered audio and per-speaker statistics (the microphone was revoked); models stay loaded."""
        with self._lock:
            self._segmenter = None
            self._normalisers.clear()
            self._detector.take()

    def feed_sync(self, chunk: AudioChunk) -> list[Utterance]:
        """Blocking :meth:`feed`: the utterances that ended inside ``chunk``."""
        with self._lock:
            self.load()
            assert self._segmenter is not None
            return self._utterances(self._segmenter.push(chunk_to_mono16k(chunk), chunk.t))

    def flush_sync(self) -> list[Utterance]:
        """Blocking :meth:`flush`: the utterance still open at the end of the stream."""
        with self._lock:
            if self._segmenter is None:
                return []
            return self._utterances(self._segmenter.flush())

    def _utterances(self, segments: list[Segment]) -> list[Utterance]:
        out = []
        for seg in segments:
            reading = self.read(seg.audio, seg.end)
            tr = reading.transcription
            if not tr.text:  # VAD heard something but Whisper found no words: no turn, no invented text
                continue
            meta: dict[str, object] = {
                "start": round(seg.start, 3),
                "end": round(seg.end, 3),
                "language": tr.language,
                "language_probability": round(tr.language_probability, 3),
                "words": [(w.text, round(seg.start + w.start, 3), round(seg.start + w.end, 3)) for w in tr.words],
                "asr": self.backend.name,
                "vad": self.vad.name,
            }
            if seg.complete is not None:
                meta["turn_complete"] = round(seg.complete, 3)
            turn = TextTurn(seg.end, tr.text, self.speaker, "asr", meta)
            out.append(Utterance(turn, (reading.estimate,)))
        return out

    # -- one utterance -------------------------------------------------------------------------------------------
    def read(self, audio: np.ndarray, t: float) -> VoiceReading:
        """Transcribe one utterance of 16 kHz audio ending at media time ``t`` and read its emotion (blocking)."""
        if audio.ndim != 1 or not np.all(np.isfinite(audio)):
            raise ObservationError("SpeechPipeline.read expects finite 16 kHz mono samples; use to_mono16k")
        tr = self.backend.transcribe(audio)
        prosodic, measures = self.prosody.analyse(audio, t, words=len(tr.words) or None, speaker=self.speaker)
        signal = check_signal(audio)
        if not signal.usable:
            return VoiceReading(tr, ModalityEstimate.unknown("voice", t, signal.reason, "speech"), None, measures)
        if self._head is None or tr.embedding is None:
            return VoiceReading(tr, prosodic, None, measures)
        normaliser = self._normalisers.setdefault(self.speaker, self._head.normaliser())
        head_probs = self._head.probs(normaliser(tr.embedding))
        return VoiceReading(tr, voice_estimate(head_probs, prosodic, t), head_probs, measures)


def voice_estimate(head_probs: dict[str, float], prosodic: ModalityEstimate, t: float) -> ModalityEstimate:
    """Head categories plus prosody: arousal blends the head's high-arousal mass with prosodic arousal."""
    probs = to_basic(head_probs)
    valence, _ = valence_arousal(probs)
    head_arousal = 2.0 * sum(p for c, p in head_probs.items() if c in HIGH_AROUSAL) - 1.0
    arousal = head_arousal if prosodic.confidence == 0 else 0.7 * head_arousal + 0.3 * prosodic.arousal
    top = max(head_probs, key=head_probs.__getitem__)
    certainty = (head_probs[top] - 1 / len(head_probs)) / (1 - 1 / len(head_probs))
    cue = Cue(f"voice_{top}", head_probs[top], "voice", supports=(TO_BASIC[top],))
    return ModalityEstimate(
        "voice",
        t,
        probs,
        float(np.clip(valence, -1, 1)),
        float(np.clip(arousal, -1, 1)),
        round(0.25 + 0.55 * certainty, 4),
        (cue, *prosodic.cues),
        source="whisper-head+prosody",
    )

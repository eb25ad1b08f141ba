"""Speech-to-text backends for one utterance of 16 kHz mono audio.

The default runs whisper-base through CTranslate2 (faster-whisper's engine) and drives it step by step instead of
calling ``WhisperModel.transcribe``: the encoder window is sized to the utterance (CTranslate2 accepts fewer than
the 3000 mel frames faster-whisper pads to, which cuts the encoder from about 1 s to under 0.2 s for a short turn),
and the one encoder output serves language detection, decoding, word alignment and the vocal-emotion embedding
(which also pools two lower encoder layers, run by cut-down copies of the encoder: :mod:`.encoder_layers`).

Whisper writes plausible sentences on silence and noise; :func:`looks_hallucinated` drops a transcript the decoder
itself was unsure of, and the caller only transcribes audio that voice activity detection called speech.
"""

from __future__ import annotations

import functools
import logging
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from empathic.perception._optional import require
from empathic.perception.device import ctranslate2_device, torch_device
from empathic.perception.errors import ModelNotFound
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.voice.audio import RATE
from empathic.perception.voice.encoder_layers import LowerLayers

log = logging.getLogger(__name__)

EMOTION_LAYERS = (2, 3)
"""Lower encoder layers whose states the vocal-emotion embedding pools beside the last layer's. Chosen by inner
leave-actors-out folds among none, 2, 3, 4, 2+3 and 2+4 (every outer fold chose 2+3; see the voice model card):
vocal emotion sits lower in Whisper than the words the last layer serves."""
HOP = 160
"""Samples per mel frame (10 ms); the encoder emits one state per two frames."""
MAX_FRAMES = 3000


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its times in seconds from the start of the utterance."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True, eq=False)
class Transcription:
    """What a backend heard in one utterance.

    ``embedding`` is :func:`pool_states` of the encoder pass (whisper-base: 3312 values) when the backend can share
    it with the emotion head, else None.
    """

    text: str
    language: str
    language_probability: float
    words: tuple[Word, ...] = ()
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    embedding: np.ndarray | None = None


class AsrBackend(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray) -> Transcription:
        """Transcribe one utterance of 16 kHz mono float32 audio (blocking)."""
        ...


def compression_ratio(text: str) -> float:
    """Raw over zlib-compressed length: loops like 'thank you thank you thank you' compress far too well."""
    raw = text.encode("utf-8")
    return len(raw) / max(1, len(zlib.compress(raw)))


LANGUAGE_DOUBT = 0.85
"""Below this detected-language probability, with the no-speech probability above :data:`NO_SPEECH_DOUBT`, a
transcript is refused: noise that slips past voice activity detection reads as confident digits in a language picked
at random ("1.5.1." or "1.5cm x 2.5cm x 2" as Nynorsk at 0.44-0.84, no-speech 0.51-0.62: all 7 such cases of 43
synthetic noise clips), while none of the 256 RAVDESS clips (English, lowest probability 0.55) and none of the
espeak-ng French, German, Spanish and English turns that gave words met both conditions. A language the host fixes
is never in doubt."""
NO_SPEECH_DOUBT = 0.5


def looks_hallucinated(text: str, no_speech_prob: float, avg_logprob: float, language_probability: float = 1.0) -> bool:
    """Whisper's own thresholds (no-speech 0.6 with log-prob -1, compression 2.4), applied as a refusal, and a
    language the decoder could not tell (:data:`LANGUAGE_DOUBT`) on audio it doubted was speech."""
    if not text.strip():
        return True
    if no_speech_prob > 0.6 and avg_logprob < -0.6:
        return True
    if language_probability < LANGUAGE_DOUBT and no_speech_prob > NO_SPEECH_DOUBT:
        return True
    return avg_logprob < -1.0 or compression_ratio(text) > 2.4


def collapse_repeats(text: str) -> str:
    """Whisper sometimes loops a sentence ("... twice. I already restarted the router twice."): keep it once."""
    kept: list[str] = []
    for sentence in re.findall(r"[^.!?]+[.!?]*", text):
        if not kept or sentence.strip().lower() != kept[-1].strip().lower():
            kept.append(sentence)
    return "".join(kept).strip()


def window_frames(n_samples: int) -> int:
    """Mel frames of the encoder window: the utterance plus at least 2 s of padding, in whole seconds, at most 30 s.

    With only 1 s of padding greedy decoding of short utterances sometimes loops ("... twice. I already ...");
    2 s stopped that on the benchmark sentences at no measurable cost. Whole-second steps keep the number of
    distinct window sizes (and so CTranslate2's cached shapes) small. The emotion head is trained on this window.
    """
    frames = -(-n_samples // HOP)
    return min(MAX_FRAMES, (frames // 100 + 3) * 100)


def pool_states(
    states: np.ndarray, features: np.ndarray, n_samples: int, lower: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """Statistics of one utterance over the frames that cover real audio (not the padding), as one vector.

    Mean and std of the final states (T, D); mean, std and mean absolute frame-to-frame change of the log-mel
    features (M, frames), which carry level, spectral tilt and tempo that the last layer partly abstracts away (about
    four points for unseen RAVDESS actors); then mean and std of each ``lower`` layer's states (T, D), where more of
    the voice than of the words is left. Whisper-base with :data:`EMOTION_LAYERS`: 2 * 512 + 3 * 80 + 2 * 2 * 512 =
    3312 values.
    """
    n = max(1, min(states.shape[0], -(-n_samples // (2 * HOP))))
    used = states[:n].astype(np.float64)
    mel = features[:, : max(2, 2 * n)].astype(np.float64)
    delta = np.abs(np.diff(mel, axis=1)).mean(axis=1)
    parts = [used.mean(axis=0), used.std(axis=0), mel.mean(axis=1), mel.std(axis=1), delta]
    for layer in lower:
        below = layer[:n].astype(np.float64)
        parts += [below.mean(axis=0), below.std(axis=0)]
    return np.concatenate(parts).astype(np.float32)


class FasterWhisperBackend:
    """whisper-base (or any CTranslate2 Whisper folder) decoded greedily with an utterance-sized encoder window.

    ``emotion_layers`` are the lower encoder layers pooled into the emotion embedding, None for no embedding (no
    emotion head reads it: the lower layers cost most of another encoder pass). Where their cut-down encoders cannot
    be kept (a read-only models folder) transcripts come without an embedding (logged), so the voice falls back to
    prosody instead of feeding the head features it was not trained on.
    """

    def __init__(
        self,
        model_dir: Path | str | None = None,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        cpu_threads: int = 0,
        registry: ModelRegistry | None = None,
        model_id: str = "whisper-base-ct2",
        emotion_layers: Sequence[int] | None = EMOTION_LAYERS,
    ) -> None:
        from faster_whisper import WhisperModel

        folder = Path(model_dir) if model_dir else (registry or default_registry()).resolve(model_id)
        self.name = f"faster-whisper:{folder.name}"
        device, compute_type = ctranslate2_device()
        self.model = WhisperModel(str(folder), device=device, compute_type=compute_type, cpu_threads=cpu_threads)
        self.lower: LowerLayers | None = None
        try:
            if emotion_layers is not None:
                self.lower = LowerLayers(folder, tuple(emotion_layers), device, compute_type, cpu_threads)
        except OSError as exc:
            log.warning("cannot keep Whisper's lower layers beside %s (%s): no vocal-emotion embedding", folder, exc)
        self.language = language
        self.word_timestamps = word_timestamps
        self._tokenizers: dict[str, Any] = {}

    def _tokenizer(self, language: str) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(
                self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe", language=language
            )
        return self._tokenizers[language]

    def encode(self, audio: np.ndarray) -> tuple[np.ndarray, Any]:
        """The log-mel features of ``audio`` padded to :func:`window_frames`, and one encoder pass over them (a
        CTranslate2 StorageView)."""
        frames = window_frames(audio.size)
        padded = np.zeros(frames * HOP, dtype=np.float32)
        padded[: min(audio.size, padded.size)] = audio[: padded.size]
        features = self.model.feature_extractor(padded, padding=0)[:, :frames]
        return features, self.model.encode(features)

    def embed(self, audio: np.ndarray) -> np.ndarray | None:
        """The pooled embedding alone (for training the emotion head on exactly what inference sees)."""
        features, encoded = self.encode(audio)
        return self._embedding(features, encoded, audio.size)

    def _embedding(self, features: np.ndarray, encoded: Any, n_samples: int) -> np.ndarray | None:
        if self.lower is None:
            return None
        return pool_states(np.asarray(encoded)[0], features, n_samples, self.lower.states(features))

    def transcribe(self, audio: np.ndarray) -> Transcription:
        features, encoded = self.encode(audio)
        embedding = self._embedding(features, encoded, audio.size)
        if self.language:
            language, language_prob = self.language, 1.0
        else:
            token, language_prob = self.model.model.detect_language(encoded)[0][0]
            language = token[2:-2]
        tokenizer = self._tokenizer(language)
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=min(448, 32 + audio.size // 800),  # ~20 tokens per second of speech is already fast talk
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        if (collapsed := collapse_repeats(text)) != text:
            text, tokens = collapsed, tokenizer.encode(" " + collapsed)
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        if looks_hallucinated(text, result.no_speech_prob, avg_logprob, language_prob):
            return Transcription("", language, language_prob, (), result.no_speech_prob, avg_logprob, embedding)
        words = self._align(tokenizer, tokens, encoded, audio.size) if self.word_timestamps else ()
        return Transcription(text, language, language_prob, words, result.no_speech_prob, avg_logprob, embedding)

    def _align(self, tokenizer: Any, tokens: list[int], encoded: Any, n_samples: int) -> tuple[Word, ...]:
        alignment = self.model.find_alignment(tokenizer, [tokens], encoded, -(-n_samples // HOP))[0]
        limit = n_samples / RATE
        return tuple(
            Word(w["word"].strip(), round(min(w["start"], limit), 3), round(min(w["end"], limit), 3), w["probability"])
            for w in alignment
            if w["word"].strip()
        )


class OpenAIWhisperBackend:
    """The ``openai-whisper`` package with weights already in its cache (``~/.cache/whisper/NAME.pt``).

    It pads every utterance to 30 s and keeps its encoder to itself, so no embedding is shared: vocal emotion
    falls back to prosody with this backend.
    """

    def __init__(self, name: str = "base", *, language: str | None = None, download_root: Path | None = None) -> None:
        whisper = require("whisper", "openai-whisper", "the openai-whisper speech backend")
        root = download_root or Path.home() / ".cache" / "whisper"
        weights = root / f"{name}.pt"
        if not weights.is_file():
            raise ModelNotFound(f"openai-whisper:{name}", weights)
        self.name = f"openai-whisper:{name}"
        self.model = whisper.load_model(str(weights), device=torch_device())
        self.language = language

    def transcribe(self, audio: np.ndarray) -> Transcription:
        out = self.model.transcribe(
            audio, language=self.language, word_timestamps=True, fp16=self.model.device.type == "cuda"
        )
        segments = out.get("segments", [])
        words = tuple(
            Word(w["word"].strip(), float(w["start"]), float(w["end"]), float(w["probability"]))
            for s in segments
            for w in s.get("words", [])
        )
        no_speech = max((s["no_speech_prob"] for s in segments), default=1.0)
        logprob = min((s["avg_logprob"] for s in segments), default=-10.0)
        text = out.get("text", "").strip()
        if looks_hallucinated(text, no_speech, logprob):
            text, words = "", ()
        return Transcription(text, out.get("language", self.language or ""), 1.0, words, no_speech, logprob)


class TransformersWhisperBackend:
    """A transformers Whisper checkpoint by hub id (needs the hub or a local copy in the Hugging Face cache)."""

    def __init__(self, model_id: str, *, language: str | None = None) -> None:
        from transformers import pipeline

        try:
            self.pipe = pipeline("automatic-speech-recognition", model=model_id, device=torch_device())
        except OSError as exc:
            raise ModelNotFound(model_id, f"the Hugging Face hub or cache ({exc})") from exc
        self.name = f"transformers:{model_id}"
        self.language = language

    def transcribe(self, audio: np.ndarray) -> Transcription:
        kwargs = {"language": self.language} if self.language else {}
        out = self.pipe(
            {"raw": audio, "sampling_rate": RATE},
            return_timestamps="word",
            generate_kwargs={"task": "transcribe", **kwargs},
        )
        words = tuple(
            Word(c["text"].strip(), float(c["timestamp"][0] or 0.0), float(c["timestamp"][1] or 0.0), 1.0)
            for c in out.get("chunks", [])
        )
        return Transcription(out.get("text", "").strip(), self.language or "", 0.0, words)


def load_backend(
    spec: str, *, language: str | None = None, registry: ModelRegistry | None = None, embed: bool = True
) -> AsrBackend:
    """``faster-whisper`` (default, whisper-base from the registry), ``faster-whisper:DIR``, ``openai-whisper[:NAME]``
    or ``transformers:HUB_ID``; ``embed`` False leaves the emotion embedding out (nothing will read it)."""
    kind, _, arg = spec.partition(":")
    if kind not in ASR_BACKENDS:
        raise ValueError(f"unknown ASR backend {spec!r}; expected one of {sorted(ASR_BACKENDS)} (with :ARG)")
    return ASR_BACKENDS[kind](arg, language, registry, embed)


@functools.cache
def shared_backend(spec: str, language: str | None = None, embed: bool = True) -> AsrBackend:
    """One backend per process, spec, language and ``embed`` (default registry), shared by every session: a backend
    keeps nothing between utterances, and its models take concurrent calls (CTranslate2 queues them)."""
    return load_backend(spec, language=language, embed=embed)


def _transformers(arg: str, language: str | None, registry: ModelRegistry | None, embed: bool) -> AsrBackend:
    if not arg:
        raise ValueError("transformers backend needs a hub id, e.g. transformers:openai/whisper-small")
    return TransformersWhisperBackend(arg, language=language)


ASR_BACKENDS: dict[str, Callable[[str, str | None, ModelRegistry | None, bool], AsrBackend]] = {
    "faster-whisper": lambda arg, language, registry, embed: FasterWhisperBackend(
        arg or None, language=language, registry=registry, emotion_layers=EMOTION_LAYERS if embed else None
    ),
    "openai-whisper": lambda arg, language, registry, embed: OpenAIWhisperBackend(arg or "base", language=language),
    "transformers": _transformers,
}
"""Speech-to-text backends by name; ``load_backend("name:ARG")`` picks one."""

"""Perception as Ray Serve deployments (the ``[ray]`` extra): the models that pay for a replica of their own.

The MiniLM forward pass is what a text turn costs; it runs on the ``text-embedding`` deployment, whose replicas
gather the requests of every session in flight into one padded batch (``@serve.batch``): on one core a short turn
costs about 9 ms of a batch of 32 against 15 ms alone (onnxruntime, measured). The per-session parts (dialogue
context, heads, cue patterns) stay with the session, which reaches the deployment through :class:`ServedEmbedder`.

Whisper runs on the ``speech-recognition`` deployment (:class:`ServedAsr`), so GPUs serve it where a cluster has
them and session hosts stay light. It is not batched: on the CPU one encoder pass over four utterances cost as much
per utterance as four passes (measured), so its replicas carry the load. The face models stay with the session:
MediaPipe's tracking is per person, and the expression classifier costs about 0.8 ms a crop with no gain from
batching (measured), less than a hop to another process.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from empathic.perception.text.embedder import MiniLMEmbedder
from empathic.perception.text.minilm import heads_adapter
from empathic.perception.voice.asr import Transcription, shared_backend
from ray import serve

Request = tuple[tuple[str, ...], tuple[int, ...]]
"""One caller's texts and the layers it wants."""


class TextEmbedding:
    """MiniLM on one replica; requests that arrive together are encoded as one batch.

    ``max_batch_size`` 1 turns batching off (one forward pass per request), for comparison.
    """

    def __init__(self, max_batch_size: int = 32, batch_wait_timeout_s: float = 0.005) -> None:
        self.embedder = MiniLMEmbedder(adapter=heads_adapter())  # the encoder the default heads were trained on
        self.embedder.encode(["warm up"])  # load now: a replica is ready when its model is
        self.batched.set_max_batch_size(max_batch_size)
        self.batched.set_batch_wait_timeout_s(batch_wait_timeout_s)

    async def encode(self, texts: tuple[str, ...], layers: tuple[int, ...]) -> np.ndarray:
        """(len(texts), 384 * len(layers)) as :meth:`MiniLMEmbedder.encode` gives, batched with other callers."""
        return await self.batched((texts, layers))

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
    async def batched(self, requests: list[Request]) -> list[np.ndarray]:
        return await asyncio.to_thread(encode_together, self.embedder, requests)


def encode_together(embedder: MiniLMEmbedder, requests: Sequence[Request]) -> list[np.ndarray]:
    """Every request's rows from one encode per distinct layer set."""
    out: list[np.ndarray] = [np.empty(0)] * len(requests)
    by_layers: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, (_, layers) in enumerate(requests):
        by_layers[layers].append(i)
    for layers, members in by_layers.items():
        rows = embedder.encode([t for i in members for t in requests[i][0]], layers)
        start = 0
        for i in members:
            out[i] = rows[start : start + len(requests[i][0])]
            start += len(requests[i][0])
    return out


class ServedEmbedder(MiniLMEmbedder):
    """A :class:`MiniLMEmbedder` whose forward pass runs on the ``text-embedding`` deployment.

    The model folder is still resolved (and verified) here: the heads beside it are read in this process.
    ``encode`` blocks, as the local one does; sessions call it from a worker thread.
    """

    def __init__(self, handle: Any) -> None:
        super().__init__(adapter=heads_adapter())
        self.handle = handle

    def encode(self, texts: Sequence[str], layers: Sequence[int] = (6,), batch_size: int = 64) -> np.ndarray:
        if not layers or any(not 0 <= k <= 6 for k in layers):
            raise ValueError(f"layers must be a non-empty subset of 0..6, got {tuple(layers)}")
        return self.handle.encode.remote(tuple(texts), tuple(layers)).result()


class SpeechRecognition:
    """Whisper on one replica: every ASR backend and language sessions ask for, loaded once each."""

    def __init__(self, warm: str = "faster-whisper") -> None:
        shared_backend(warm).transcribe(np.zeros(8000, np.float32))  # a replica is ready when its model is

    def transcribe(self, spec: str, language: str | None, embed: bool, audio: np.ndarray) -> Transcription:
        return shared_backend(spec, language, embed).transcribe(audio)


class ServedAsr:
    """An :class:`~empathic.perception.voice.asr.AsrBackend` whose transcription runs on the ``speech-recognition``
    deployment; blocks as the local ones do (sessions call it from a worker thread)."""

    def __init__(self, handle: Any, spec: str, language: str | None, embed: bool = True) -> None:
        self.handle, self.spec, self.language, self.embed = handle, spec, language, embed
        self.name = f"served:{spec}"

    def transcribe(self, audio: np.ndarray) -> Transcription:
        return self.handle.transcribe.remote(self.spec, self.language, self.embed, audio).result()

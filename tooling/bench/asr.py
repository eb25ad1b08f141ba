"""``empathic bench asr``: speed and accuracy of the speech pipeline on a clip it makes with espeak-ng.

The clip is several sentences with pauses between them, streamed in 100 ms chunks as a microphone would deliver
them. End-of-utterance latency is what a user waits in a live call: from the end of their speech to the transcript,
that is the silence the turn rule waits for (at least ``least_wait_s``: Smart Turn's check, or the silence alone)
plus the compute after the chunk that closes the utterance. The real-time factor is compute time over audio time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from empathic.agent.session.latency import latency_summary
from empathic.perception.errors import MissingDependency
from empathic.perception.observations import AudioChunk
from empathic.perception.sources import read_audio
from empathic.perception.voice.audio import RATE, to_mono16k
from empathic.perception.voice.pipeline import SpeechPipeline, VoiceConfig

SENTENCES = (
    "Hello, I am calling about my internet connection.",
    "It has been dropping every evening for a week.",
    "I already restarted the router twice.",
    "Could you please send a technician tomorrow morning?",
    "Thank you, that would help a lot.",
)
PAUSE_S = 1.2


def speak(texts: Sequence[str], pause_s: float = PAUSE_S) -> np.ndarray:
    """16 kHz speech of ``texts`` by espeak-ng, with ``pause_s`` of silence before, between and after."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise MissingDependency("espeak-ng", "system", "making the benchmark clip (apt-get install espeak-ng)")
    gap = np.zeros(round(pause_s * RATE), dtype=np.float32)
    parts = [gap]
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(texts):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run([espeak, "-w", str(wav), text], check=True, capture_output=True)
            parts += [to_mono16k(*read_audio(wav)), gap]
    return np.concatenate(parts)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_accuracy(reference: str, hypothesis: str) -> float:
    """1 - word error rate (Levenshtein over words), floored at 0."""
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return max(0.0, 1.0 - row[-1] / max(1, len(ref)))


def bench_asr(pipeline: SpeechPipeline | None = None, texts: Sequence[str] = SENTENCES, chunk_s: float = 0.1) -> dict:
    """Stream the spoken ``texts`` through the pipeline; JSON-ready timings and word accuracy."""
    pipeline = pipeline or SpeechPipeline(VoiceConfig())
    audio = speak(texts)
    start = time.perf_counter()
    pipeline.load()
    load_s = time.perf_counter() - start
    pipeline.backend.transcribe(audio[: RATE * 2])  # warm-up: the first encoder and decoder calls allocate
    step = round(chunk_s * RATE)
    compute, latencies, transcript = 0.0, [], []
    for i in range(0, audio.size, step):
        chunk = AudioChunk(i / RATE, audio[i : i + step], RATE)
        t0 = time.perf_counter()
        utterances = pipeline.feed_sync(chunk)
        took = time.perf_counter() - t0
        compute += took
        for u in utterances:
            # the user waits from the end of speech until this chunk has arrived and been processed
            latencies.append(chunk.t + chunk.duration - float(u.turn.meta["end"]) + took)
            transcript.append(u.turn.text)
    t0 = time.perf_counter()
    transcript += [u.turn.text for u in pipeline.flush_sync()]
    compute += time.perf_counter() - t0
    duration = audio.size / RATE
    cfg = pipeline.config
    least_wait = cfg.turn.check_s if pipeline.turn_model is not None else cfg.segmenter.trailing_silence_s
    return {
        "audio_s": round(duration, 2),
        "utterances": len(transcript),
        "expected_utterances": len(texts),
        "word_accuracy": round(word_accuracy(" ".join(texts), " ".join(transcript)), 4),
        "real_time_factor": round(compute / duration, 4),
        "eou_latency": latency_summary(latencies),
        "turn_end": pipeline.turn_model.name if pipeline.turn_model is not None else "silence",
        "least_wait_s": least_wait,
        "model_load_s": round(load_s, 2),
        "asr": pipeline.backend.name,
        "vad": pipeline.vad.name,
        "transcript": " ".join(transcript),
    }

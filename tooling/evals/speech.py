"""``empathic eval speech --data DIR``: the speech pipeline's vocal emotion against labelled clips.

``labels.csv`` has ``path, emotion, speaker, speaker_sex``. Each clip is one utterance: cut to its speech by the
VAD, transcribed, and read by the emotion head exactly as live audio is. Accuracy is over the head's eight classes
(calm kept apart from neutral); ``arousal_accuracy`` checks the sign of the estimate's arousal against the label's
side (high: angry, fear, happy, surprise, disgust; low: neutral, calm, sad). Rows with other labels, or whose
audio cannot be read or is silent, are excluded and counted.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from empathic.perception.errors import ObservationError
from empathic.perception.sources import read_audio
from empathic.perception.voice.audio import RATE, to_mono16k
from empathic.perception.voice.emotion import HEAD_CLASSES, HIGH_AROUSAL
from empathic.perception.voice.pipeline import SpeechPipeline, VoiceConfig
from empathic.perception.voice.segmenter import speech_span
from empathic.tooling.evals.metrics import breakdown, classification_report, grouped

ALIASES = {"fearful": "fear", "surprised": "surprise"}


def evaluate_speech(
    rows: Sequence[dict[str, str]], folder: Path | str, *, by: str | None = None, pipeline: SpeechPipeline | None = None
) -> dict[str, object]:
    """Score every row; returns accuracy, macro F1, per-class recall, accuracy per speaker sex and arousal accuracy."""
    folder = Path(folder)
    pipeline = pipeline or SpeechPipeline(VoiceConfig())
    pipeline.load()
    truth: list[str] = []
    pred: list[str] = []
    kept: list[dict[str, str]] = []
    arousal_hits: list[bool] = []
    excluded: Counter[str] = Counter()
    seconds = 0.0
    start = time.perf_counter()
    for row in rows:
        label = ALIASES.get(row.get("emotion", "").strip(), row.get("emotion", "").strip())
        if label not in HEAD_CLASSES:
            excluded["label not in the 8 classes"] += 1
            continue
        try:
            samples, rate = read_audio(folder / row["path"])
        except (ObservationError, OSError) as exc:
            excluded[f"unreadable: {type(exc).__name__}"] += 1
            continue
        audio = to_mono16k(samples, rate)
        speech = speech_span(audio, pipeline.vad)
        pipeline.speaker = row.get("speaker", "user")
        # a clip the VAD finds no speech in is read whole, as in training; the signal check still rejects silence
        reading = pipeline.read(audio if speech is None else speech, audio.size / RATE)
        if reading.head_probs is None:
            excluded[reading.estimate.reason or "no emotion head"] += 1
            continue
        seconds += audio.size / RATE
        truth.append(label)
        pred.append(max(reading.head_probs, key=reading.head_probs.__getitem__))
        arousal_hits.append((reading.estimate.arousal >= 0) == (label in HIGH_AROUSAL))
        kept.append(row)
    elapsed = time.perf_counter() - start
    report = classification_report(truth, pred, HEAD_CLASSES)
    sexes = [r.get("speaker_sex", "") for r in kept]
    by_sex = {s: r["accuracy"] for s, r in breakdown(truth, pred, sexes, HEAD_CLASSES).items()} if any(sexes) else {}
    report |= {
        "arousal_accuracy": round(sum(arousal_hits) / len(arousal_hits), 4) if arousal_hits else 0.0,
        "accuracy_by_speaker_sex": by_sex,
        "sex_gap": round(max(by_sex.values()) - min(by_sex.values()), 4) if len(by_sex) > 1 else 0.0,
        "n_excluded": sum(excluded.values()),
        "excluded": dict(excluded),
        "real_time_factor": round(elapsed / seconds, 4) if seconds else 0.0,
        "model": f"{pipeline.backend.name}+head",
    }
    if by:
        report |= grouped(truth, pred, [r.get(by, "") for r in kept], HEAD_CLASSES, by)
    return report

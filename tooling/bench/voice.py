"""``empathic bench voice``: the agent's voice, measured on the audio it makes.

- ``turn_end_to_first_audio``: scripted spoken turns (the ``ScriptedTranscriber`` double ends each one, so
  transcription time is not included) go through a default session with the ``responder`` (template or the
  embedded LLM); the time from handing over the audio chunk that ends a turn to
  the first reply audio chunk out (targets: p50 <= 800 ms, p95 <= 1200 ms).
- ``synthesis``: real-time factor (synthesis seconds per audio second) over the replies' sentences.
- ``tones``: per tone (and the directives of an upset customer, a pleased one and a confused learner), speaking
  rate and median pitch measured on the synthesised audio with the voice prosody tracker.
- ``barge_in``: a live (realtime) reply interrupted mid-sentence: how long ``interrupt`` takes, and how much audio
  had already been handed out past the stop (what a sink that cannot flush would still play).
The end-of-turn and barge-in detection numbers (the listening side) come from their own bench beside this one.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import numpy as np
from empathic.agent.session.build import build_session
from empathic.agent.session.events import Event, ResponseCompleted, SpeechAudio, SpeechStopped
from empathic.agent.session.latency import latency_summary
from empathic.agent.session.settings import Settings
from empathic.agent.speech import Speaker, SpeechOutput, VoiceProsody, build_speaker, prosody_for, sentences
from empathic.perception import AudioChunk, TextTurn
from empathic.perception.voice.audio import to_mono16k
from empathic.perception.voice.prosody import measure
from empathic.tooling.bench.responder import SCRIPTS

from empathic.testing import ScriptedTranscriber

PASSAGE = (
    "I understand what you are telling me. We will get this sorted out today. "
    "Could you tell me the order number, please?"
)
DIRECTIVES = {  # who the agent talks to -> (tone, pacing), as the shipped profiles decide
    "upset customer": ("calm", "slow"),
    "pleased customer": ("upbeat", "brisk"),
    "confused learner": ("calm", "slow"),
}
TARGETS_MS = {"p50_ms": 800.0, "p95_ms": 1200.0}


def measure_voice(speaker: Speaker, prosody: VoiceProsody, text: str = PASSAGE) -> dict[str, float]:
    """Speaking rate and pitch of ``text`` as ``speaker`` says it in ``prosody``.

    ``words_per_s`` counts speech only; ``rate_sps`` (syllables per second, pauses included) and the median pitch
    come from :func:`empathic.perception.voice.prosody.measure` on the audio at 16 kHz.
    """
    segments = list(speaker.stream(text, prosody))
    audio = np.concatenate([s.audio for s in segments])
    speech_s = sum(s.speech_samples for s in segments) / speaker.sample_rate
    words = len(text.split())
    p = measure(to_mono16k(audio, speaker.sample_rate), words=words)
    if p is None:
        raise ValueError(f"{speaker.name} made no measurable speech")
    return {
        "words_per_s": round(words / speech_s, 3),
        "rate_sps": round(p.rate_sps, 3),
        "median_f0_hz": round(100 * 2 ** (p.pitch_st / 12), 1),
        "pitch_range_st": round(p.pitch_range_st, 2),
        "energy_db": round(p.energy_db, 2),
        "pause_ratio": round(p.pause_ratio, 3),
        "seconds": round(audio.size / speaker.sample_rate, 3),
    }


def tone_measures(speaker: Speaker) -> dict[str, dict[str, float]]:
    """:func:`measure_voice` for every tone at normal pacing and for the directives in :data:`DIRECTIVES`."""
    from empathic.policies.moves import TONES

    cases = {tone: (tone, "normal") for tone in TONES} | DIRECTIVES
    return {name: {"tone": tone, "pacing": pacing, **measure_voice(speaker, prosody_for(tone, pacing))}
            for name, (tone, pacing) in cases.items()}  # fmt: skip


async def _first_audio(
    speaker: Speaker, turns: int, responder: str
) -> tuple[list[float], list[str], dict[str, object]]:
    """Per scripted spoken turn, seconds from the chunk that ends it to the first reply audio; the replies; and
    the session's stage latencies."""
    settings = Settings(face=False, body=False, voice=False, responder=responder)
    session = build_session(settings)
    session.speech = SpeechOutput(speaker)
    script = [line for lines in SCRIPTS.values() for line in lines]
    step, gap = 0.1, 12.0  # media seconds per audio chunk; between turn ends (replies finish playing in between)
    session.transcriber = ScriptedTranscriber([(gap * (i + 1), script[i % len(script)]) for i in range(turns + 1)])
    marks: dict[str, float] = {}
    replies: list[str] = []

    def watch(event: Event) -> None:
        if isinstance(event, SpeechAudio) and "first" not in marks:
            marks["first"] = time.perf_counter()
        elif isinstance(event, ResponseCompleted):
            replies.append(event.text)

    session.subscribe(watch)
    silence = np.zeros(int(16000 * step), dtype=np.float32)
    waits = []
    for k in range(1, int(gap * (turns + 1) / step) + 2):
        chunk = AudioChunk(round(k * step, 3), silence, 16000)
        marks.clear()
        start = time.perf_counter()
        await session.process(chunk)
        if "first" in marks:
            waits.append(marks["first"] - start)
    return waits[1:], replies[1:], session.metrics.summary()  # the first turn loads the text models


def _synthesis(speaker: Speaker, replies: list[str]) -> dict[str, object]:
    spent = audio = 0.0
    first = []
    for reply in replies:
        for i, sentence in enumerate(sentences(reply)):
            start = time.perf_counter()
            seg = speaker.render(sentence, prosody_for("warm"), i)
            took = time.perf_counter() - start
            spent, audio = spent + took, audio + seg.speech_samples / seg.sample_rate
            if i == 0:
                first.append(took)
    return {
        "rtf": round(spent / max(audio, 1e-9), 3),
        "audio_s": round(audio, 2),
        "first_sentence": latency_summary(first),
    }


async def _barge_in(speaker: Speaker, trials: int, seed: int) -> dict[str, object]:
    """Live replies interrupted at a random moment 0.3-1.5 s into playback."""
    rng = random.Random(seed)
    calls, overrun, gaps = [], [], []
    for _ in range(trials):
        session = build_session(Settings(face=False, body=False, voice=False, text_model="lexicon"))
        zero = time.monotonic()
        session.speech = SpeechOutput(speaker, realtime=True, clock=lambda z=zero: time.monotonic() - z)
        stops: list[SpeechStopped] = []
        session.subscribe(lambda e, out=stops: out.append(e) if isinstance(e, SpeechStopped) else None)
        await session.process(TextTurn(0.0, "This is ridiculous, I've asked three times already and nobody helps!"))
        while not session.speaking:
            await asyncio.sleep(0.01)
        playback = session.speech.playback
        assert playback is not None
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        start = time.perf_counter()
        session.interrupt()
        calls.append(time.perf_counter() - start)
        overrun.append(max(0.0, playback.end - (playback.stopped_at or 0.0)))
        heard = stops[-1].heard if stops else ""
        gaps.append(len(heard.split()))
        await asyncio.sleep(0.2)
    return {
        "trials": trials,
        "interrupt_call": latency_summary(calls),
        "audio_past_stop": latency_summary(overrun),
        "stop_within_ms": round(1000 * max(c + o for c, o in zip(calls, overrun, strict=True)), 1),
        "target_ms": 300.0,
        "words_heard_median": float(np.median(gaps)),
    }


def bench_voice(
    turns: int = 20, voice: str = "auto", trials: int = 5, seed: int = 0, responder: str = "template"
) -> dict[str, object]:
    speaker = build_speaker(voice)
    load = os.getloadavg()
    waits, replies, stages = asyncio.run(_first_audio(speaker, turns, responder))
    first = latency_summary(waits)
    return {
        "bench": "voice",
        "voice": speaker.name,
        "responder": responder,
        "load_avg_1m": round(load[0], 2),
        "turn_end_to_first_audio": {
            **first,
            "targets": TARGETS_MS,
            "met": all(first[k] <= v for k, v in TARGETS_MS.items()),
        },
        "stages": stages,
        "synthesis": _synthesis(speaker, replies),
        "tones": tone_measures(speaker),
        "barge_in": asyncio.run(_barge_in(speaker, trials, seed)),
    }

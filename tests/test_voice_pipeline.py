"""The speech pipeline with the real models (whisper-base, Silero VAD) on speech that espeak-ng makes here."""

import itertools
import shutil

import numpy as np
import pytest
from empathic.agent.session.loop import AgentSession
from empathic.perception import AudioChunk, LicenseError, MissingDependency
from empathic.perception.voice.asr import collapse_repeats, looks_hallucinated, window_frames
from empathic.perception.voice.audio import RATE
from empathic.perception.voice.pipeline import SpeechPipeline, VoiceConfig
from empathic.perception.voice.vad import load_vad
from empathic.tooling.bench.asr import SENTENCES, bench_asr, speak, word_accuracy
from empathic.tooling.evals.speech import evaluate_speech

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

TEXT = "I have been waiting for an hour and nobody answers the phone."


@pytest.fixture(scope="module")
def shared():
    """One loaded pipeline whose models the other pipelines borrow (loading whisper takes seconds)."""
    p = SpeechPipeline()
    p.load()
    return p


def fresh(shared, **config):
    return SpeechPipeline(VoiceConfig(**config), backend=shared.backend, vad=load_vad("silero"), head=shared._head)


@pytest.fixture(scope="module")
def speech():
    return speak([TEXT], pause_s=0.8)


def chunks(audio, rate=RATE, chunk_s=0.25, t0=0.0):
    """48 kHz stereo int16 chunks, as a browser microphone sends them."""
    if rate != RATE:
        t = np.arange(round(audio.size * rate / RATE)) / rate
        audio = np.interp(t, np.arange(audio.size) / RATE, audio).astype(np.float32)
    pcm = np.repeat((audio * 32767).astype(np.int16)[:, None], 2, axis=1)
    step = round(chunk_s * rate)
    return [AudioChunk(t0 + i / rate, pcm[i : i + step], rate) for i in range(0, pcm.shape[0], step)]


async def test_speech_becomes_one_utterance_with_words_language_and_voice(shared, speech):
    pipeline = fresh(shared)
    out = []
    for chunk in chunks(speech, rate=48000):
        out += await pipeline.feed(chunk)
    out += await pipeline.flush()
    assert len(out) == 1
    turn = out[0].turn
    assert turn.source == "asr" and word_accuracy(TEXT, turn.text) >= 0.8
    assert turn.meta["language"] == "en"
    words = turn.meta["words"]
    assert len(words) >= 8 and all(a[1] <= b[1] for a, b in itertools.pairwise(words))
    assert 0.5 <= words[0][1] <= turn.t
    (voice,) = out[0].estimates
    assert voice.modality == "voice" and voice.confidence > 0
    assert sum(voice.probs.values()) == pytest.approx(1.0)
    assert any(c.name.startswith("voice_") for c in voice.cues)


@pytest.mark.parametrize("kind", ["silence", "noise", "tone", "nan"])
async def test_no_words_are_invented_for_non_speech(shared, kind):
    rng = np.random.default_rng(0)
    n = 3 * RATE
    audio = {
        "silence": np.zeros(n, np.float32),
        "noise": rng.normal(0, 0.2, n).astype(np.float32),
        "tone": (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / RATE)).astype(np.float32),
        "nan": np.full(n, np.nan, np.float32),
    }[kind]
    pipeline = fresh(shared)
    out = [u for c in chunks(np.nan_to_num(audio), chunk_s=0.5) for u in await pipeline.feed(c)]
    out += await pipeline.flush()
    assert out == []
    assert shared.backend.transcribe(np.nan_to_num(audio)).text == ""


def test_clipped_speech_gives_a_reasoned_unknown(shared, speech):
    clipped = np.clip(speech * 50, -1, 1)
    reading = fresh(shared).read(clipped, 3.0)
    assert reading.estimate.confidence == 0 and "clipped" in reading.estimate.reason


def test_commercial_use_refuses_the_head_but_prosody_works(shared, speech):
    with pytest.raises(LicenseError, match="prosody"):
        SpeechPipeline(VoiceConfig(commercial=True), backend=shared.backend).load()
    pipeline = fresh(shared, emotion="prosody", commercial=True)
    pipeline._head = None
    reading = pipeline.read(speech, 4.0)
    assert reading.head_probs is None and reading.estimate.source == "prosody"
    assert reading.transcription.text


async def test_session_turns_speech_into_transcript_and_turn_end(shared, speech):
    session = AgentSession(transcriber=fresh(shared))
    events = []
    for chunk in chunks(speech, t0=2.0):
        events += await session.process(chunk)
    events += await session.finish()
    types = [e.type for e in events]
    assert "transcript" in types and "turn_end" in types
    assert types.index("transcript") < types.index("turn_end")


def test_window_is_sized_to_the_utterance():
    assert window_frames(RATE * 4) == 700
    assert window_frames(RATE * 40) == 3000
    assert looks_hallucinated("", 0.0, 0.0)
    assert looks_hallucinated("thank you " * 20, 0.1, -0.2)
    assert not looks_hallucinated("I need help with my bill.", 0.05, -0.2)
    # noise past the VAD: confident digits, a language barely picked, and a decoder that doubted it heard speech
    assert looks_hallucinated("1.5.1.", 0.51, -0.44, language_probability=0.55)
    assert not looks_hallucinated("1.5.1.", 0.51, -0.44, language_probability=0.95)
    assert not looks_hallucinated("Je voudrais parler à quelqu'un.", 0.2, -0.3, language_probability=0.55)
    assert collapse_repeats("I restarted it twice. I restarted it twice. Help!") == "I restarted it twice. Help!"


def test_unknown_backends_and_missing_extras_fail_clearly():
    from empathic.perception.voice.asr import load_backend

    with pytest.raises(ValueError, match="unknown ASR backend"):
        load_backend("kaldi")
    try:
        import whisper  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependency, match="openai-whisper"):
            load_backend("openai-whisper")


def test_eval_speech_reports_the_issue_metrics(shared, tmp_path):
    import subprocess

    rows = []
    for i, (text, emotion, sex) in enumerate([(TEXT, "angry", "male"), ("Good morning to you.", "calm", "female")]):
        path = tmp_path / f"{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
        rows.append({"path": path.name, "emotion": emotion, "speaker": str(i), "speaker_sex": sex})
    rows.append({"path": "x.wav", "emotion": "contempt", "speaker": "9", "speaker_sex": "male"})
    out = evaluate_speech(rows, tmp_path, by="speaker", pipeline=fresh(shared))
    assert out["n"] == 2 and out["n_excluded"] == 1
    assert {"accuracy", "macro_f1", "per_class_recall", "arousal_accuracy", "accuracy_by_speaker_sex"} <= set(out)
    assert set(out["accuracy_by_speaker_sex"]) == {"male", "female"}


def test_bench_asr_transcribes_the_clip(shared):
    out = bench_asr(fresh(shared), texts=SENTENCES[:2])
    assert out["utterances"] == 2 and out["word_accuracy"] >= 0.8
    assert out["real_time_factor"] > 0 and out["eou_latency"]["p50_ms"] >= 1000 * out["least_wait_s"]


def test_pipelines_share_models_and_keep_their_own_stream(shared):
    a, b = SpeechPipeline(), SpeechPipeline()
    a.load()
    b.load()
    assert a.backend is b.backend is shared.backend and a._head is b._head is shared._head
    assert a._turn_model is b._turn_model  # Smart Turn too (or silence alone for both)
    assert a.vad is not b.vad and a.vad._session is b.vad._session  # one network, one recurrent state per stream
    a.vad.probability(np.full(a.vad.frame_size, 0.3, np.float32))
    assert not np.array_equal(a.vad._last, b.vad._last)

"""Segmentation, prosody and the emotion head on made-up signals: no Whisper needed."""

import numpy as np
import pytest
from empathic.perception import MissingDependency
from empathic.perception.registry import default_registry
from empathic.perception.voice.emotion import HEAD_CLASSES, HEAD_ID, LinearHead, to_basic
from empathic.perception.voice.microphone import microphone_chunks
from empathic.perception.voice.prosody import ProsodyAnalyzer, measure
from empathic.perception.voice.segmenter import Segmenter, SegmenterConfig, speech_span
from empathic.tooling.train.voice import arousal_accuracy, fit

from empathic.testing import LoudnessVad

RATE = 16000


def vad() -> LoudnessVad:
    """Speech above RMS 0.05, in 20 ms frames."""
    return LoudnessVad(level=0.05, frame_size=320)


def burst(seconds, amp=0.3, f0=150.0):
    t = np.arange(round(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def gap(seconds):
    return np.zeros(round(seconds * RATE), np.float32)


def stream(segmenter, audio, chunk_s=0.1):
    out = []
    step = round(chunk_s * RATE)
    for i in range(0, audio.size, step):
        out += segmenter.push(audio[i : i + step], i / RATE)
    return out + segmenter.flush()


def test_trailing_silence_decides_where_an_utterance_ends():
    audio = np.concatenate([gap(0.5), burst(1.0), gap(0.4), burst(1.0), gap(1.0)])
    short = stream(Segmenter(vad(), SegmenterConfig(trailing_silence_s=0.3)), audio)
    long = stream(Segmenter(vad(), SegmenterConfig(trailing_silence_s=0.6)), audio)
    assert len(short) == 2 and len(long) == 1
    assert short[0].start == pytest.approx(0.5 - 0.2, abs=0.03)  # pre-roll kept
    assert short[0].end == pytest.approx(1.5, abs=0.03)
    assert long[0].end == pytest.approx(2.9, abs=0.03)


def test_clicks_are_dropped_and_an_open_utterance_is_flushed():
    seg = Segmenter(vad(), SegmenterConfig(min_speech_s=0.25))
    assert stream(seg, np.concatenate([burst(0.1), gap(1.0)])) == []
    out = stream(Segmenter(vad()), np.concatenate([gap(0.3), burst(1.0)]))
    assert len(out) == 1 and out[0].duration == pytest.approx(1.0 + 0.2, abs=0.05)  # with the pre-roll


def test_a_jump_in_time_restarts_the_stream():
    seg = Segmenter(vad())
    first = seg.push(burst(1.0), 0.0)
    out = first + seg.push(burst(1.0), 10.0) + seg.flush()
    assert [round(s.start) for s in out] == [0, 10]


def test_long_speech_is_cut_before_whisper_window():
    out = stream(Segmenter(vad(), SegmenterConfig(max_utterance_s=5.0)), burst(12.0))
    assert len(out) == 3 and all(s.duration <= 5.05 for s in out)


def test_speech_span_trims_leading_and_trailing_silence():
    audio = np.concatenate([gap(1.0), burst(1.0), gap(1.0)])
    span = speech_span(audio, vad())
    assert span is not None and 1.0 < span.size / RATE < 1.5
    assert speech_span(gap(2.0), vad()) is None


def harmonic(f0, seconds=1.5, amp=0.2, syllables=4):
    """A voiced-sounding signal at ``f0`` with ``syllables`` energy bumps per second."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * syllables * t)
    return (amp * wave * envelope / 2).astype(np.float32)


def test_pitch_is_measured_in_semitones():
    p = measure(harmonic(200.0))
    assert p is not None
    assert p.pitch_st == pytest.approx(12 * np.log2(2.0), abs=0.5)
    assert measure(gap(1.0)) is None


def test_prosody_is_read_against_the_speakers_own_baseline():
    analyzer = ProsodyAnalyzer()
    for _ in range(4):
        analyzer.analyse(harmonic(120.0), 0.0)
    est, _ = analyzer.analyse(harmonic(190.0, amp=0.6), 1.0)
    names = {c.name for c in est.cues}
    assert {"pitch_up", "loud"} <= names
    assert est.arousal > 0.3 and est.probs == {} and 0 < est.confidence <= 0.6
    calm, _ = analyzer.analyse(harmonic(120.0), 2.0)
    assert calm.arousal < est.arousal


def test_prosody_of_silence_is_an_honest_unknown():
    est, p = ProsodyAnalyzer().analyse(gap(1.0), 0.0)
    assert p is None and est.confidence == 0 and est.reason == "silence"


def test_calm_folds_onto_neutral():
    probs = to_basic({c: 1 / 8 for c in HEAD_CLASSES})
    assert probs["neutral"] == pytest.approx(0.25) and sum(probs.values()) == pytest.approx(1.0)


def test_head_round_trips_with_its_speaker_statistics_and_temperature(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6))
    y = (x[:, 0] > 0).astype(int)
    head = fit(x, y, 1e-3, classes=("low", "high"))
    assert (head.predict_proba(x).argmax(axis=1) == y).mean() > 0.9
    hot = LinearHead(
        *(getattr(head, f) for f in ("mean", "scale", "coef", "intercept", "classes")),
        np.ones(6),
        np.full(6, 4.0),
        2.0,
        True,
        2.5,
    )
    hot.save(tmp_path / "h.npz")
    again = LinearHead.load(tmp_path / "h.npz")
    assert np.allclose(again.predict_proba(x[:3]), hot.predict_proba(x[:3]), atol=1e-5)
    assert again.speaker_scale and again.prior_weight == 2.0 and again.temperature == 2.5
    # a higher temperature flattens, never reorders
    assert np.all(hot.predict_proba(x[:3]).max(axis=1) < head.predict_proba(x[:3]).max(axis=1))
    assert np.array_equal(hot.predict_proba(x).argmax(axis=1), head.predict_proba(x).argmax(axis=1))


def test_arousal_side_of_the_predicted_class():
    assert arousal_accuracy(["angry", "sad"], ["fear", "calm"]) == 1.0
    assert arousal_accuracy(["angry", "sad"], ["calm", "fear"]) == 0.0


def test_registry_marks_the_head_non_commercial_with_an_alternative():
    spec = default_registry().spec(HEAD_ID)
    assert not spec.commercial_use and "prosody" in spec.alternative and spec.bundled
    assert default_registry().status(HEAD_ID) == "ok"


async def test_microphone_without_pyaudio_names_the_extra():
    pytest.importorskip("pytest")  # always present; documents that this test needs no device
    try:
        import pyaudio  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependency, match="local"):
            await anext(microphone_chunks())
    else:
        pytest.skip("pyaudio is installed here")

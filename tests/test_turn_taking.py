"""Turn taking on made-up signals: Smart Turn's features, the end-of-turn rule, barge-in against backchannels and
the agent's own echo. No weights needed except where a test says so."""

from pathlib import Path

import numpy as np
import pytest
from empathic.perception import AudioChunk
from empathic.perception.registry import default_registry
from empathic.perception.transcriber import HearsPlayback
from empathic.perception.voice.asr import Transcription
from empathic.perception.voice.bargein import BargeInDetector
from empathic.perception.voice.pipeline import SpeechPipeline, VoiceConfig
from empathic.perception.voice.prosody import final_lowering
from empathic.perception.voice.segmenter import Segmenter, SegmenterConfig
from empathic.perception.voice.turn import SmartTurn, TurnConfig, TurnEndRule, load_turn_model, smart_turn_features

from empathic.testing import LoudnessVad

RATE = 16000
FIXTURE = Path(__file__).with_name("data") / "smart_turn_features.npz"


class LengthTurnModel:
    """'Complete' once the turn holds at least ``seconds`` of audio; counts its calls."""

    name = "length"

    def __init__(self, seconds):
        self.seconds, self.calls = seconds, 0

    def probability(self, audio):
        self.calls += 1
        return 0.9 if audio.size / RATE >= self.seconds else 0.1


def voice(seconds, f0=150.0, amp=0.3, syllable_hz=4.0, seed=0, fall_st=0.0):
    """Speech-like sound: a harmonic tone whose loudness rises and falls with syllables, its pitch gliding down by
    ``fall_st`` semitones over the last 0.3 s (a statement's end)."""
    t = np.arange(round(seconds * RATE)) / RATE
    glide = np.clip((t - (seconds - 0.3)) / 0.3, 0.0, 1.0)
    phase = 2 * np.pi * np.cumsum(f0 * 2 ** (-fall_st * glide / 12)) / RATE
    tone = sum(np.sin(k * phase + k) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * syllable_hz * t + seed)
    return (amp * tone * envelope / 2).astype(np.float32)


def gap(seconds):
    return np.zeros(round(seconds * RATE), np.float32)


def stream(segmenter, audio):
    """Frame by frame; (media time each utterance closed, the utterance)."""
    n = segmenter.vad.frame_size
    out = []
    for i in range(0, audio.size - n + 1, n):
        out += [((i + n) / RATE, s) for s in segmenter.push(audio[i : i + n], i / RATE)]
    return out


# -- Smart Turn's input ----------------------------------------------------------------------------------------------
def test_features_match_pipecats_extractor():
    """The stored values were computed once by Pipecat 1.14.0's own numpy extractor on this signal."""
    rng = np.random.default_rng(7)
    t = np.arange(24000) / RATE
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.normal(size=t.size)
    ref = np.load(FIXTURE)
    features = smart_turn_features(x.astype(np.float32))
    assert features.shape == (80, 800) and features.dtype == np.float32
    np.testing.assert_allclose(features[:, -ref["last"].shape[1] :], ref["last"], atol=1e-4)
    np.testing.assert_allclose(features[:, : ref["first"].shape[1]], ref["first"], atol=1e-4)


def test_features_keep_the_last_eight_seconds():
    long = np.concatenate([voice(5.0, f0=300), voice(8.0)])
    np.testing.assert_array_equal(smart_turn_features(long), smart_turn_features(long[-8 * RATE :]))
    with pytest.raises(ValueError):
        smart_turn_features(np.zeros((2, 100), np.float32))


def test_smart_turn_answers_a_probability():
    try:
        model = SmartTurn()
    except Exception as exc:  # weights not fetched on this machine
        pytest.skip(f"smart-turn-v3 not available: {exc}")
    p = model.probability(np.concatenate([voice(1.5), gap(0.2)]))
    assert 0.0 <= p <= 1.0


def test_without_weights_auto_falls_back_to_silence_and_smart_turn_refuses(tmp_path):
    from empathic.perception.errors import ModelNotFound
    from empathic.perception.registry import ModelRegistry

    empty = ModelRegistry(default_registry().specs, tmp_path)
    assert load_turn_model(TurnConfig(), empty) is None
    assert load_turn_model(TurnConfig(model="silence")) is None
    with pytest.raises(ModelNotFound):
        load_turn_model(TurnConfig(model="smart-turn"), empty)


# -- the end-of-turn rule -------------------------------------------------------------------------------------------
def test_rule_asks_once_per_pause_and_waits_longer_when_incomplete():
    cfg = TurnConfig(check_s=0.2, max_wait_s=1.0)
    model = LengthTurnModel(seconds=2.0)
    rule = TurnEndRule(model, cfg)
    short, long = (lambda: gap(1.0)), (lambda: gap(3.0))
    assert not rule.ended(0.1, short) and model.calls == 0  # too early to ask
    assert not rule.ended(0.2, short) and not rule.ended(0.6, short) and model.calls == 1
    assert rule.ended(1.0, short)  # the fallback
    rule.speech()
    assert rule.ended(0.2, long) and rule.probability == pytest.approx(0.9) and model.calls == 2


def test_a_mid_turn_pause_is_kept_and_a_finished_turn_ends_soon():
    """First part 1.0 s (sounds incomplete to the model), a 0.7 s pause, the rest: one utterance, closed 0.2 s after
    the speech, where silence alone at 0.5 s cuts the pause and ends the turn later."""
    audio = np.concatenate([gap(0.3), voice(1.0), gap(0.7), voice(1.0, fall_st=5.0), gap(1.5)])
    turn = TurnEndRule(LengthTurnModel(seconds=2.0), TurnConfig(check_s=0.2, max_wait_s=1.0))
    out = stream(Segmenter(LoudnessVad(), SegmenterConfig(), turn=turn), audio)
    assert len(out) == 1
    closed, seg = out[0]
    assert seg.start < 0.3 < 2.0 < seg.end and seg.complete == pytest.approx(0.9)
    assert closed - seg.end == pytest.approx(0.2, abs=0.04)
    silence = stream(Segmenter(LoudnessVad(), SegmenterConfig(trailing_silence_s=0.5)), audio)
    assert len(silence) == 2 and silence[-1][0] - silence[-1][1].end > closed - seg.end


def test_final_lowering_measures_the_pitch_fall_at_the_end():
    assert final_lowering(voice(1.5, fall_st=5.0)) == pytest.approx(5.0, abs=1.0)
    assert final_lowering(voice(1.5)) == pytest.approx(0.0, abs=0.5)
    assert final_lowering(np.concatenate([voice(1.5, fall_st=5.0), gap(0.2)])) == pytest.approx(5.0, abs=1.0)
    assert final_lowering(gap(1.0)) is None and final_lowering(voice(0.1)) is None


def test_a_complete_sounding_pause_without_a_pitch_fall_waits():
    """The model says complete either way; only the turn whose pitch fell at the end is ended at ``check_s``."""
    cfg = TurnConfig(check_s=0.2, max_wait_s=1.0)
    for fall, wait in ((5.0, 0.2), (0.0, 1.0)):
        audio = np.concatenate([gap(0.3), voice(2.5, fall_st=fall), gap(1.5)])
        out = stream(Segmenter(LoudnessVad(), SegmenterConfig(), turn=TurnEndRule(LengthTurnModel(1.0), cfg)), audio)
        assert len(out) == 1 and out[0][0] - out[0][1].end == pytest.approx(wait, abs=0.04), fall
    audio = np.concatenate([gap(0.3), voice(2.5), gap(1.5)])
    alone = TurnEndRule(LengthTurnModel(1.0), TurnConfig(check_s=0.2, max_wait_s=1.0, final_drop_st=None))
    (closed, seg), *_ = stream(Segmenter(LoudnessVad(), SegmenterConfig(), turn=alone), audio)
    assert closed - seg.end == pytest.approx(0.2, abs=0.04)


# -- barge-in -------------------------------------------------------------------------------------------------------
PLAYED = np.concatenate([voice(2.0, f0=210, amp=0.4, syllable_hz=3.0), gap(0.15), voice(3.0, f0=210, amp=0.4)])


def over_playback(user=None, at=2.5, delay=0.12, gain=0.4, seed=1):
    """The agent plays PLAYED from t=0; the microphone hears it ``delay`` later at ``gain``, plus ``user`` at ``at``."""
    rng = np.random.default_rng(seed)
    mic = np.zeros(PLAYED.size + RATE, np.float32)
    d = round(delay * RATE)
    mic[d : d + PLAYED.size] += gain * PLAYED
    if user is not None:
        mic[round(at * RATE) : round(at * RATE) + user.size] += user
    mic += rng.normal(0, 0.002, mic.size).astype(np.float32)
    detector = BargeInDetector()
    detector.play(PLAYED, RATE, 0.0)
    segments = stream(Segmenter(LoudnessVad(), SegmenterConfig(), barge_in=detector), mic)
    return detector.take(), [s for _, s in segments]


def test_talking_over_the_agent_is_a_barge_in_soon_after_the_threshold():
    events, segments = over_playback(voice(1.5, f0=120, amp=0.5, seed=3))
    assert len(events) == 1
    assert events[0].onset == pytest.approx(2.5, abs=0.1)
    assert 0.6 <= events[0].t - events[0].onset <= 0.6 + 0.3
    assert len(segments) == 1 and segments[0].start == pytest.approx(2.5, abs=0.25)  # what they said is a turn


@pytest.mark.parametrize("seconds", [0.25, 0.4])
def test_a_backchannel_neither_interrupts_nor_becomes_a_turn(seconds):
    events, segments = over_playback(voice(seconds, f0=120, amp=0.5, seed=3))
    assert events == [] and segments == []


@pytest.mark.parametrize("gain", [0.4, 0.0], ids=["loudspeaker", "echo-cancelled"])
def test_speech_over_the_reply_interrupts_it_and_is_heard_whole(gain):
    """The person talks from the reply's first second on, through loudspeakers or into a microphone that cancels the
    echo (no echo path to find); the host stops playback at the barge-in as a session does. Their speech is one turn
    from its onset to its end, not chopped as echo."""
    rng = np.random.default_rng(1)
    delay = round(0.12 * RATE)
    echo = np.zeros(PLAYED.size + RATE, np.float32)
    echo[delay : delay + PLAYED.size] = gain * PLAYED
    user = np.zeros_like(echo)
    words = voice(3.5, f0=120, amp=0.5, seed=3)
    user[round(0.8 * RATE) : round(0.8 * RATE) + words.size] = words
    detector = BargeInDetector()
    detector.play(PLAYED, RATE, 0.0)
    seg = Segmenter(LoudnessVad(), SegmenterConfig(), barge_in=detector)
    events, segments, n = [], [], seg.vad.frame_size
    for i in range(0, echo.size - n + 1, n):
        segments += seg.push(user[i : i + n] + echo[i : i + n] + rng.normal(0, 0.002, n).astype(np.float32), i / RATE)
        if not events and (events := detector.take()):
            detector.stop(events[0].t)
            echo[round((events[0].t + 0.12) * RATE) :] = 0.0  # nothing more comes out of the speakers
    assert len(events) == 1 and events[0].t - events[0].onset <= 0.6 + 0.3
    assert len(segments) == 1
    assert segments[0].start == pytest.approx(0.8, abs=0.25) and segments[0].end == pytest.approx(4.3, abs=0.1)


def test_the_agents_own_voice_is_neither_a_barge_in_nor_a_turn():
    for delay, gain in ((0.05, 0.6), (0.12, 0.4), (0.3, 0.25), (0.12, 1.5)):
        events, segments = over_playback(None, delay=delay, gain=gain)
        assert events == [] and segments == [], (delay, gain)


def test_after_playback_stops_speech_is_an_ordinary_turn():
    detector = BargeInDetector()
    detector.play(PLAYED[:RATE], RATE, 0.0)
    detector.stop(0.5)
    assert detector.playing(0.3) and not detector.playing(2.0)
    seg = Segmenter(LoudnessVad(), SegmenterConfig(), barge_in=detector)
    out = stream(seg, np.concatenate([gap(2.0), voice(0.4, f0=120, amp=0.5), gap(1.0)]))
    assert len(out) == 1 and detector.take() == []


async def test_the_pipeline_reports_barge_in_to_the_host():
    class Words:
        name = "fixed"

        def transcribe(self, audio):
            return Transcription("wait a second", "en", 1.0)

    pipeline = SpeechPipeline(
        VoiceConfig(emotion="prosody", turn=TurnConfig(model="silence")), backend=Words(), vad=LoudnessVad()
    )
    assert isinstance(pipeline, HearsPlayback)
    heard = []
    pipeline.on_barge_in = heard.append
    pipeline.play((PLAYED * 32767).astype(np.int16), RATE, 0.0)
    mic = 0.4 * np.concatenate([gap(0.12), PLAYED, gap(1.0)])
    user = voice(1.5, f0=120, amp=0.5, seed=3)
    mic[round(2.5 * RATE) : round(2.5 * RATE) + user.size] += user
    utterances = []
    step = RATE // 10
    for i in range(0, mic.size, step):
        utterances += await pipeline.feed(AudioChunk(i / RATE, mic[i : i + step], RATE))
    assert len(heard) == 1 and heard[0].onset == pytest.approx(2.5, abs=0.1)
    assert [u.turn.text for u in utterances] == ["wait a second"]

"""Speech out: sentence streaming, piper's phoneme ids, prosody by tone measured on the audio, playback that knows
what was heard, and a session that speaks, stops on barge-in and keeps only what was heard in its history."""

import asyncio
import itertools
import json
import shutil
import time
import wave

import numpy as np
import pytest
from empathic.agent import AgentSession, TemplateResponder
from empathic.agent.speech import Playback, SpeechOutput, prosody_for, sentences
from empathic.agent.speech.phonemes import Phonemizer, phoneme_ids
from empathic.perception import AudioChunk, ModelNotFound, TextTurn
from empathic.perception.text import LexiconTextPerceiver
from empathic.perception.transcriber import BargeIn
from empathic.tooling.bench.voice import measure_voice
from empathic.ui.cli import main

from empathic.testing import ManualClock, ScriptedTranscriber, ToneSpeaker

espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
UPSET, PLEASED, CONFUSED = ("calm", "slow"), ("upbeat", "brisk"), ("calm", "slow")


def test_sentences_come_out_as_soon_as_each_ends():
    seen = []

    def chunks():
        for piece in ["I hear you", ". Dr. Smith will call", " at 3.30 today! ", "Is that o", "k?"]:
            seen.append(piece)
            yield piece

    out = []
    for sentence in sentences(chunks()):
        out.append((sentence, len(seen)))
    assert out == [("I hear you.", 2), ("Dr. Smith will call at 3.30 today!", 3), ("Is that ok?", 5)]
    # the reply's first clause goes out on its own when it has three words or more
    assert list(sentences("Take your time, I'm here. Yes, sure.")) == ["Take your time,", "I'm here.", "Yes, sure."]
    assert list(sentences("Hi there, I'm here.")) == ["Hi there, I'm here."]


def test_phoneme_ids_follow_piper_layout():
    id_map = {"_": [0], "^": [1], "$": [2], " ": [3], "a": [14], "b": [15], ".": [10]}
    assert phoneme_ids("ab a.", id_map) == [1, 0, 14, 0, 15, 0, 3, 0, 14, 0, 10, 0, 2]
    assert phoneme_ids("a?", id_map) == [1, 0, 14, 0, 2]  # unknown symbols are skipped


@espeak
def test_phonemizer_keeps_clause_punctuation_and_stays_in_step():
    phonemize = Phonemizer()
    ipa = phonemize("Hello there, how are you?")
    assert ipa.count(",") == 1 and ipa.endswith("?") and " " in ipa
    assert "h" in ipa and not any(c.isupper() for c in ipa)
    assert phonemize("Dr. Who -- (yes) ... no!") != ""  # odd clauses: whatever espeak makes of them
    assert phonemize("Hello there, how are you?") == ipa  # the answers did not shift
    assert phonemize("!!") == ""
    phonemize.close()


def test_stream_speaks_the_first_sentence_before_the_reply_is_written():
    speaker, consumed = ToneSpeaker(), []

    def reply():
        for piece in ["First one. ", "Second ", "one is longer."]:
            consumed.append(piece)
            yield piece

    stream = speaker.stream(reply(), prosody_for("warm"))
    first = next(stream)
    assert first.text == "First one." and consumed == ["First one. "]
    assert first.audio.dtype == np.float32 and first.audio.ndim == 1
    assert first.audio.size - first.speech_samples == round(prosody_for("warm").pause_s * speaker.sample_rate)
    assert [s.text for s in stream] == ["Second one is longer."]


def assert_tone_order(speaker):
    upset, pleased = measure_voice(speaker, prosody_for(*UPSET)), measure_voice(speaker, prosody_for(*PLEASED))
    learner, plain = measure_voice(speaker, prosody_for(*CONFUSED)), measure_voice(speaker, prosody_for("concise"))
    assert upset["words_per_s"] < pleased["words_per_s"] and upset["rate_sps"] < pleased["rate_sps"]
    assert upset["median_f0_hz"] < pleased["median_f0_hz"]
    assert learner["rate_sps"] < plain["rate_sps"] and learner["pause_ratio"] > plain["pause_ratio"]


def test_tone_prosody_measured_on_the_double():
    assert_tone_order(ToneSpeaker())


@espeak
def test_tone_prosody_measured_on_the_real_voice():
    from empathic.agent.speech import PiperSpeaker

    try:
        speaker = PiperSpeaker()
    except ModelNotFound:
        pytest.skip("piper-joe-medium not fetched (empathic models fetch piper-joe-medium)")
    assert_tone_order(speaker)


def segment(text="one two three", seconds=1.0, rate=1000):
    from empathic.agent.speech import SpeechSegment

    audio = np.full(int(seconds * rate), 0.1, np.float32)
    return SpeechSegment(audio, rate, text, 0, audio.size)


def test_playback_hears_words_by_the_clock_and_stops():
    clock = ManualClock()
    playback = Playback(1000, clock.now)
    seg = segment("one two three")
    starts = [playback.hand_out(seg, first, samples) for first, samples in seg.chunks(0.1)]
    assert starts == pytest.approx([0.1 * i for i in range(10)])
    assert playback.heard(0.35) == "one" and playback.heard(0.7) == "one two" and playback.heard(1.0) == "one two three"
    clock.advance(0.5)
    assert playback.stop() == "one"
    assert playback.hand_out(seg, 0, seg.audio[:10]) is None  # nothing more is handed out
    assert playback.played_s() == pytest.approx(0.5)
    ref = playback.reference(0.4, 0.7)
    assert ref.size == 300 and np.all(ref[:100] == 0.1) and np.all(ref[100:] == 0)  # silent after the stop


def speaking_session(**kw):
    return AgentSession(
        perceivers=[LexiconTextPerceiver()],
        responder=TemplateResponder(),
        clock=ManualClock(),
        speech=SpeechOutput(ToneSpeaker(), **kw),
    )


async def test_session_speaks_the_reply_in_chunks_and_stops_at_its_end():
    s = speaking_session()
    events = await s.process(TextTurn(1.0, "This is ridiculous, I've asked three times already!"))
    audio = [e for e in events if e.type == "speech_audio"]
    reply = next(e for e in events if e.type == "response").text
    assert next(e.type for e in events if e.type.startswith("speech_")) == "speech_start"
    assert all(e.audio.size <= 0.1 * e.sample_rate for e in audio)
    assert audio[0].t == 1.0 and all(b.t > a.t for a, b in itertools.pairwise(audio))
    assert {"samples", "sample_rate"} <= set(audio[0].to_record()) and "audio" not in audio[0].to_record()
    end = audio[-1].t + audio[-1].audio.size / audio[-1].sample_rate
    assert not any(e.type == "speech_stop" for e in events)  # still playing in media time
    later = await s.process(TextTurn(end + 5, "Okay."))
    stop = next(e for e in later if e.type == "speech_stop")
    assert stop.t == pytest.approx(end) and stop.heard == reply and not stop.interrupted
    assert s.dialogue.turns[1].text == reply


async def test_barge_in_keeps_only_what_was_heard():
    s = speaking_session()
    events = await s.process(TextTurn(1.0, "This is ridiculous, I've asked three times already!"))
    reply = next(e for e in events if e.type == "response").text
    assert s.speaking and s.reference(1.0, 1.5).any()
    stopped = s.interrupt(2.5)
    assert [e.type for e in stopped] == ["speech_stop"] and stopped[0].interrupted
    heard = stopped[0].heard
    assert heard and reply.startswith(heard) and len(heard) < len(reply)
    assert [t.text for t in s.dialogue.turns if t.speaker == "agent"] == [heard]
    assert not s.speaking and s.interrupt(3.0) == []  # nothing left to stop
    # stopped before a word was over: the reply leaves the history
    await s.process(TextTurn(10.0, "I still don't know where my parcel is."))
    s.interrupt(10.05)
    assert [t.speaker for t in s.dialogue.turns] == ["user", "agent", "user"]
    # a reply already over when the interrupt comes ends as it was
    events = await s.process(TextTurn(20.0, "Okay, thanks."))
    reply = next(e for e in events if e.type == "response").text
    assert [(e.interrupted, e.heard) for e in s.interrupt(60.0)] == [(False, reply)]


async def test_live_speech_stops_within_300_ms():
    zero = time.monotonic()
    s = speaking_session(realtime=True, clock=lambda: time.monotonic() - zero)
    chunks = []
    s.subscribe(lambda e: chunks.append(e) if e.type == "speech_audio" else None)
    await s.process(TextTurn(0.0, "This is ridiculous, I've asked three times already!"))
    await asyncio.sleep(0.6)
    assert s.speaking and chunks
    playback = s.speech.playback
    n = len(chunks)
    stop = s.interrupt()[0]
    await asyncio.sleep(0.3)
    assert len(chunks) == n  # nothing handed out after the stop
    assert playback.end - stop.t <= 0.3  # what a sink may still hold
    assert 0.4 < stop.spoken_s < 1.0


@espeak
def test_run_speak_writes_each_reply(capsys, tmp_path):
    script = tmp_path / "turns.txt"
    script.write_text("Hi, my order is late.\nOkay, thanks.\n", encoding="utf-8")
    assert main(["run", "--text-file", str(script), "--speak", str(tmp_path / "out"), "--tts", "espeak"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["type"] for r in records].count("speech_start") == 2
    assert not any(r["type"] == "speech_audio" for r in records)
    files = sorted((tmp_path / "out").glob("reply-*.wav"))
    assert len(files) == 2
    with wave.open(str(files[0])) as w:
        assert w.getframerate() == 22050 and w.getnframes() > 22050


class BrokenVoice(ToneSpeaker):
    def synthesize(self, sentence, prosody):
        if len(self.calls) >= 1:
            raise RuntimeError("voice crashed")
        return super().synthesize(sentence, prosody)


async def test_a_failing_voice_is_reported_and_the_reply_ends_where_it_got_to():
    s = AgentSession(responder=TemplateResponder(), clock=ManualClock(), speech=SpeechOutput(BrokenVoice()))
    events = await s.process(TextTurn(1.0, "This is ridiculous, I've asked three times already!"))
    failed = [e for e in events if e.type == "error"]
    assert len(failed) == 1 and failed[0].component == "speech.tone" and "voice crashed" in failed[0].error
    assert any(e.type == "speech_audio" for e in events) and any(e.type == "response" for e in events)
    later = await s.process(TextTurn(30.0, "Okay."))
    assert next(e for e in later if e.type == "speech_stop").heard  # the first sentence was spoken


class HearingTranscriber(ScriptedTranscriber):
    """A scripted transcriber that hears the playback and reports a barge-in at ``barge_at`` (media time)."""

    def __init__(self, barge_at: float) -> None:
        super().__init__([])
        self.on_barge_in = None
        self.barge_at = barge_at
        self.played: list[tuple[float, int]] = []
        self.stopped_at: list[float] = []

    def play(self, samples, sample_rate, t):
        self.played.append((t, samples.size))

    def stop_playback(self, t):
        self.stopped_at.append(t)

    async def feed(self, chunk):
        if chunk.t >= self.barge_at and self.on_barge_in is not None and self.played and not self.stopped_at:
            self.on_barge_in(BargeIn(self.barge_at, self.barge_at - 0.6, 0.6))
        return await super().feed(chunk)


async def test_the_listener_hears_the_reply_and_its_barge_in_stops_it():
    ears = HearingTranscriber(barge_at=2.0)
    s = AgentSession(
        perceivers=[LexiconTextPerceiver()],
        responder=TemplateResponder(),
        clock=ManualClock(),
        speech=SpeechOutput(ToneSpeaker()),
        transcriber=ears,
    )
    events = await s.process(TextTurn(1.0, "This is ridiculous, I've asked three times already!"))
    audio = [e for e in events if e.type == "speech_audio"]
    assert [t for t, _ in ears.played] == [e.t for e in audio]  # every piece played was heard, at its time
    quiet = np.zeros(1600, np.float32)
    await s.process(AudioChunk(1.5, quiet, 16000))
    assert s.speaking and not ears.stopped_at
    events = await s.process(AudioChunk(2.1, quiet, 16000))
    stop = next(e for e in events if e.type == "speech_stop")
    assert stop.interrupted and stop.t == pytest.approx(2.0) and ears.stopped_at == [2.0]
    assert [t.text for t in s.dialogue.turns if t.speaker == "agent"] == [stop.heard]

"""Consent, the compliance guard, license enforcement and redaction."""

import numpy as np
import pytest
from empathic.agent import AgentSession, Settings, TemplateResponder, build_session
from empathic.agent.trust.compliance import ComplianceSettings, decide
from empathic.agent.trust.consent import ConsentLedger
from empathic.agent.trust.privacy import redact, redact_record
from empathic.perception import LicenseError, ModalityEstimate, PerceiverCapabilities, TextTurn, VideoFrame

from empathic.testing import ManualClock, ScriptedPerceiver

FRAME = np.zeros((8, 8, 3), np.uint8)


def happy_face():
    return ScriptedPerceiver([(0.0, ModalityEstimate("face", 0.0, {"happy": 1.0}, 0.7, 0.4, 0.9))])


def session(**kw):
    return AgentSession(
        perceivers=[happy_face(), *build_session().perceivers],
        responder=TemplateResponder(),
        clock=ManualClock(),
        **kw,
    )


async def test_nothing_is_analysed_before_consent():
    s = session(consent=ConsentLedger())
    assert await s.process(VideoFrame(0.1, FRAME)) == []
    events = await s.process(TextTurn(0.5, "This is ridiculous!!"))
    state = next(e for e in events if e.type == "state").state
    assert state.confidence == 0.0 and state.contributions == {}
    assert events[-1].type == "response"  # the person is still answered
    assert s.perceivers[0].calls == []


async def test_revoking_consent_forgets_derived_evidence():
    s = session(consent=ConsentLedger(["camera", "text"]))
    await s.process(VideoFrame(0.1, FRAME))
    assert s.state.contributions.get("face") == 1.0
    s.set_consent("camera", False, 0.2)
    assert s.state.confidence == 0.0
    assert await s.process(VideoFrame(0.3, FRAME)) == []
    assert [(c.channel, c.granted) for c in s.consent.history] == [("camera", True), ("text", True), ("camera", False)]


def test_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="unknown channel"):
        ConsentLedger().set("smell", True, 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("context", "jurisdiction", "purpose", "words_only"),
    [
        ("education", "EU", "general", True),
        ("workplace", "de", "general", True),
        ("workplace", "DE", "safety", False),
        ("education", "FR", "medical", False),
        ("education", "US", "general", False),
        ("customer_service", "EU", "general", False),
        ("healthcare", "EU", "general", False),
    ],
)
def test_art_5_1_f_guard(context, jurisdiction, purpose, words_only):
    d = decide(ComplianceSettings(deployment_context=context, jurisdiction=jurisdiction, purpose=purpose))
    assert (d.allowed_modalities == {"text"}) == words_only
    assert ("Art. 5(1)(f)" in d.notice) == words_only


async def test_guarded_session_uses_words_only_and_says_so():
    settings = Settings(compliance=ComplianceSettings(deployment_context="education", jurisdiction="EU"))
    face = happy_face()
    s = build_session(settings, perceivers=[face, *build_session().perceivers], clock=ManualClock())
    await s.process(VideoFrame(0.1, FRAME))
    events = await s.process(TextTurn(0.5, "I'm so happy, thanks!"))
    state = next(e for e in events if e.type == "state").state
    assert face.calls == []  # the face model never ran
    assert set(state.contributions) == {"text"}
    assert "Art. 5(1)(f)" in state.explanation


async def test_guard_drops_estimates_that_arrive_by_other_paths():
    settings = Settings(compliance=ComplianceSettings(deployment_context="workplace"))
    s = build_session(settings, perceivers=[], clock=ManualClock())
    s._fuse([ModalityEstimate("voice", 1.0, {"angry": 1.0}, -0.5, 0.5, 0.9)], 1.0, [])
    assert "voice" not in s.state.contributions


def test_commercial_deployment_refuses_non_commercial_weights():
    non_commercial = happy_face()
    non_commercial.name = "nc-voice"
    non_commercial.capabilities = PerceiverCapabilities("voice", (VideoFrame,), commercial_use=False)
    settings = Settings(compliance=ComplianceSettings(commercial_use=True))
    with pytest.raises(LicenseError, match="nc-voice"):
        build_session(settings, perceivers=[non_commercial])
    assert build_session(Settings(), perceivers=[non_commercial]).perceivers  # non-commercial use is fine


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ann.lee+cs@example.co.uk", "write to [email]"),
        ("call +44 20 7946 0958 today", "call [phone] today"),
        ("my number is (555) 123-4567.", "my number is [phone]."),
        ("card 4111 1111 1111 1111 please", "card [card] please"),
        ("order 1234567890123 placed 2024-05-01", "order 1234567890123 placed 2024-05-01"),
        ("not a card 4111-1111-1111-1112", "not a card 4111-1111-1111-1112"),
    ],
)
def test_redaction(text, expected):
    assert redact(text) == expected


def test_redact_record_walks_nested_values():
    rec = {"type": "response", "t": 1.0, "text": "mail a@b.io", "cues": ["x a@b.io"], "n": 3}
    assert redact_record(rec) == {"type": "response", "t": 1.0, "text": "mail [email]", "cues": ["x [email]"], "n": 3}


def test_recording_is_opt_in_redacted_and_expires(tmp_path, capsys):
    import json
    import stat

    from empathic.ui.cli import main

    script = tmp_path / "call.txt"
    script.write_text("My email is jo@example.com and this is ridiculous!\n", encoding="utf-8")
    folder = tmp_path / "rec"
    folder.mkdir()
    assert main(["run", "--text-file", str(script), "--record", str(folder), "--retention-days", "7"]) == 0
    capsys.readouterr()
    recording = folder / "empathic-call.jsonl"
    assert stat.S_IMODE(recording.stat().st_mode) == 0o600
    lines = [json.loads(x) for x in recording.read_text().splitlines()]
    assert {r["type"] for r in lines} >= {"state", "turn_end", "directive", "response"}
    assert "jo@example.com" not in json.dumps(lines) and "[email]" in json.dumps(lines)
    assert main(["run", "--text-file", str(script)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [".empathic-recordings.json", "empathic-call.jsonl"]


def test_retention_deletes_only_own_expired_recordings(tmp_path):
    import os
    import stat
    import time

    from empathic.agent.trust.recording import TimelineRecorder

    ten_days_ago = time.time() - 10 * 86400
    unrelated = [tmp_path / "old.jsonl", tmp_path / "empathic-notes.jsonl"]
    for path in unrelated:
        path.write_text("{}\n")
        os.utime(path, (ten_days_ago, ten_days_ago))
    TimelineRecorder(tmp_path, "call").close()
    os.utime(tmp_path / "empathic-call.jsonl", (ten_days_ago, ten_days_ago))
    second = TimelineRecorder(tmp_path, "notes")  # empathic-notes.jsonl is not ours: a free name is taken
    second.close()
    assert second.path.name == "empathic-notes-2.jsonl" and stat.S_IMODE(second.path.stat().st_mode) == 0o600
    assert not (tmp_path / "empathic-call.jsonl").exists()  # ours, past its retention
    assert all(p.exists() and p.read_text() == "{}\n" for p in unrelated)  # never ours, left alone
    assert stat.S_IMODE(second.manifest_path.stat().st_mode) == 0o600


@pytest.mark.parametrize("days", [float("nan"), float("inf"), 0.5, 0, -1])
def test_retention_must_be_finite_and_at_least_a_day(tmp_path, days):
    from empathic.agent.trust.recording import TimelineRecorder

    with pytest.raises(ValueError, match="retention_days"):
        TimelineRecorder(tmp_path, "x", days)
    assert list(tmp_path.iterdir()) == []


# -- consent semantics, one test per row of the README table ------------------------------------------------------
ANGRY_VOICE = ModalityEstimate("voice", 1.0, {"angry": 1.0}, -0.6, 0.6, 0.9)
AUDIO = np.zeros(1600, np.float32)


def words_session(granted, script=()):
    from empathic.testing import ScriptedTranscriber

    return AgentSession(
        perceivers=build_session().perceivers,
        responder=TemplateResponder(),
        transcriber=ScriptedTranscriber(list(script)),
        clock=ManualClock(),
        consent=ConsentLedger(granted),
    )


def chunk(t):
    from empathic.perception import AudioChunk

    return AudioChunk(t, AUDIO, 16000)


def directive(events):
    return next(e for e in events if e.type == "directive").directive


async def test_no_consent_carries_the_conversation_and_honours_a_request_for_a_person():
    s = words_session([])
    for i, text in enumerate(["Mail me at jo@example.com, this is ridiculous!!", "Awful. Still broken!!"] * 2):
        d = directive(await s.process(TextTurn(1.0 + 5 * i, text)))
        assert not d.escalate and d.moves == ()  # no complaint read from the words
    assert s.state.contributions == {} and s.dialogue.negative_streak == 0
    d = directive(await s.process(TextTurn(30.0, "I want to speak to a real person.")))
    assert d.escalate and "not analysed" in d.handoff_summary
    assert "jo@example.com" not in d.handoff_summary and "ridiculous" not in d.handoff_summary


async def test_words_granted_are_read_and_summarised():
    s = words_session(["text"])
    await s.process(TextTurn(1.0, "This is ridiculous, my order STILL hasn't arrived!!"))
    assert "text" in s.state.contributions
    d = directive(await s.process(TextTurn(6.0, "I want to speak to a real person.")))
    assert d.escalate and "ridiculous" in d.handoff_summary


async def test_microphone_only_hears_the_voice_but_does_not_read_the_transcript():
    script = [(1.0, "This is ridiculous, I am furious!!", [ANGRY_VOICE]), (6.0, "I want to speak to a real person.")]
    s = words_session(["microphone"], script)
    events = await s.process(chunk(1.0))
    assert any(e.type == "transcript" for e in events) and s.dialogue.user_turns == 1
    assert set(s.state.contributions) == {"voice"}
    d = directive(await s.process(chunk(6.0)))  # a request for a person is honoured all the same
    assert d.escalate and "ridiculous" not in d.handoff_summary and "real person" not in d.handoff_summary
    s.set_consent("text", True, 7.0)  # typed words are read now, a transcript still needs both
    assert s.words_allowed(TextTurn(2.0, "x")) and s.words_allowed(TextTurn(2.0, "x", source="asr"))


async def test_microphone_and_words_read_the_transcript_and_revoking_the_microphone_forgets_it():
    s = words_session(["microphone", "text"], [(1.0, "This is ridiculous, I am furious!!", [ANGRY_VOICE])])
    await s.process(chunk(1.0))
    assert {"voice", "text"} <= set(s.state.contributions)
    s.set_consent("microphone", False, 2.0)
    assert s.state.contributions == {} and s.transcriber.resets == 1


async def test_revoking_words_forgets_what_was_read_from_them():
    s = words_session(["text"])
    await s.process(TextTurn(1.0, "This is ridiculous!!"))
    s.set_consent("text", False, 2.0)
    assert s.state.contributions == {}
    d = directive(await s.process(TextTurn(3.0, "Get me a human agent.")))
    assert d.escalate and "ridiculous" not in d.handoff_summary


async def test_speech_buffered_before_a_revoke_is_never_transcribed():
    s = words_session(["microphone", "text"], [(2.0, "my secret words"), (5.0, "hello again")])
    await s.process(chunk(1.0))
    s.set_consent("microphone", False, 1.5)
    assert await s.process(chunk(2.0)) == []  # not even fed while revoked
    s.set_consent("microphone", True, 3.0)
    heard = [e.turn.text for e in await s.process(chunk(3.0)) if e.type == "transcript"]
    heard += [e.turn.text for e in await s.process(chunk(5.0)) if e.type == "transcript"]
    assert heard == ["hello again"]

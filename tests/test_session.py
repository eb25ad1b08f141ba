import numpy as np
from empathic.agent import AgentSession, TemplateResponder
from empathic.perception import AudioChunk, Episode, ModalityEstimate, TextTurn, VideoFrame
from empathic.perception.sources import merge, replay
from empathic.perception.text import LexiconTextPerceiver

from empathic.testing import FailingPerceiver, FailingResponder, ManualClock, ScriptedPerceiver, ScriptedTranscriber

HAPPY = ModalityEstimate("face", 0.0, {"happy": 1.0}, 0.7, 0.4, 0.9, source="scripted-face")
ANGRY = ModalityEstimate("face", 0.0, {"angry": 1.0}, -0.6, 0.4, 0.9, source="scripted-face")


def scripted_face(switch_t=1e9, rate_hz=0.0):
    """Happy before ``switch_t``, angry from then on."""
    return ScriptedPerceiver([(0.0, HAPPY), (switch_t, ANGRY)], name="scripted-face", max_rate_hz=rate_hz)


def frames(n, fps=10.0):
    img = np.zeros((8, 8, 3), np.uint8)
    return [VideoFrame(i / fps, img) for i in range(n)]


async def collect(session, observations):
    return [e async for e in session.run(replay(observations))]


def scripted_session(**kw):
    return AgentSession(
        perceivers=[scripted_face(switch_t=1.0), *kw.pop("extra", [])],
        responder=TemplateResponder(),
        clock=ManualClock(),
        **kw,
    )


async def test_scripted_session_event_sequence():
    obs = list(merge(frames(20), [TextTurn(1.5, "This is not working")]))
    events = await collect(scripted_session(state_interval=0.5), obs)
    types = [e.type for e in events]
    # states every 0.5 s of media time, then at the turn end: state, turn_end, directive, chunks, response
    turn = types.index("turn_end")
    assert types[:turn] == ["state"] * 5  # frames at 0, 0.5, 1.0, 1.5 s, then the turn end
    assert types[turn - 1 : turn + 2] == ["state", "turn_end", "directive"]
    assert types[-1] == "response" and set(types[turn + 2 : -1]) == {"response_chunk"}
    states = [e for e in events if e.type == "state"]
    assert states[0].state.dominant == "happy" and states[-1].state.dominant == "angry"
    directive = next(e for e in events if e.type == "directive").directive
    assert "apologize" in directive.moves  # the face turned angry before the turn ended


async def test_replay_is_deterministic():
    obs = list(merge(frames(30), [TextTurn(1.0, "hmm I'm not sure"), TextTurn(2.5, "thanks, great")]))
    a = [e.to_record() for e in await collect(scripted_session(), obs)]
    b = [e.to_record() for e in await collect(scripted_session(), obs)]
    assert a == b and len(a) > 10


async def test_failing_perceiver_is_reported_and_the_session_goes_on():
    crashy = FailingPerceiver(RuntimeError("model exploded"), name="crashy", accepts=(VideoFrame, TextTurn))
    s = scripted_session(extra=[crashy])
    events = await collect(s, [*frames(3), TextTurn(0.5, "hello")])
    errors = [e for e in events if e.type == "error"]
    assert len(errors) == 4 and all("model exploded" in e.error and e.component == "perceive.crashy" for e in errors)
    assert any(e.type == "state" and e.state.dominant == "happy" for e in events)
    assert events[-1].type == "response"


async def test_broken_responder_falls_back_to_the_template():
    s = AgentSession(responder=FailingResponder(), clock=ManualClock())
    events = await collect(s, [TextTurn(1.0, "hi")])
    assert [e.type for e in events][-3:] == ["error", "response_chunk", "response"]
    final = events[-1]
    assert final.fallback and final.responder == "template" and final.text


async def test_partial_stream_is_kept_before_the_fallback():
    s = AgentSession(responder=FailingResponder(["Hello ", "there"]), clock=ManualClock())
    final = (await collect(s, [TextTurn(1.0, "hi")]))[-1]
    assert final.text.startswith("Hello there ") and final.fallback


async def test_transcribed_speech_becomes_a_turn():
    chunks = [AudioChunk(i * 0.5, np.zeros(800, np.int16), 16000) for i in range(6)]
    # a sad voice with one brief episode, as a vocal-emotion head might report with the words
    episode = Episode("micro_expression", 0.7, 0.8, 0.9, ("AU15",), 0.6)
    voice = ModalityEstimate("voice", 1.0, {"sad": 1.0}, -0.6, -0.3, 0.8, source="scripted-voice", episodes=(episode,))
    s = AgentSession(
        transcriber=ScriptedTranscriber([(1.0, "I still can't log in", [voice]), (9.0, "bye")]),
        responder=TemplateResponder(),
        clock=ManualClock(),
    )
    s.perceivers.append(LexiconTextPerceiver())
    events = await collect(s, chunks)
    transcripts = [e for e in events if e.type == "transcript"]
    assert [t.turn.text for t in transcripts] == ["I still can't log in", "bye"]
    assert transcripts[0].t == 1.0
    assert [e.type for e in events].count("response") == 2
    assert s.dialogue.user_turns == 2
    # the voice estimate that came with the first utterance was fused before its turn ended
    first_turn_state = next(e for e in events if e.type == "state")
    assert first_turn_state.state.contributions.get("voice", 0) > 0.5
    episode = next(e for e in events if e.type == "episode")
    assert episode.to_record()["labels"] == ["AU15"] and episode.t == 0.9


async def test_perceiver_rate_limit_in_media_time():
    face = scripted_face(rate_hz=5.0)
    s = AgentSession(perceivers=[face], clock=ManualClock())
    await collect(s, frames(30, fps=30.0))
    assert face.calls == [i / 30.0 for i in range(0, 30, 6)]


async def test_subscribers_see_every_event_and_can_leave():
    s = scripted_session()
    seen, boom = [], []
    unsubscribe = s.subscribe(seen.append)
    s.subscribe(lambda e: boom.append(1 / 0))  # a broken observer must not break the session
    first = await s.process(TextTurn(1.0, "hello"))
    assert seen == first and len(boom) == 0
    unsubscribe()
    await s.process(TextTurn(2.0, "again"))
    assert seen == first


async def test_latency_metrics_use_the_injected_clock():
    clock = ManualClock()

    face = scripted_face()
    perceive = face.perceive

    async def slowly(obs):
        clock.advance(0.010)
        return await perceive(obs)

    face.perceive = slowly
    s = AgentSession(perceivers=[face], clock=clock)
    await collect(s, frames(5))
    m = s.metrics.summary()["perceive.scripted-face"]
    assert m["n"] == 5 and m["p50_ms"] == 10.0 and m["p95_ms"] == 10.0


async def test_agent_turns_enter_the_dialogue_without_a_reply():
    s = scripted_session()
    events = await s.process(TextTurn(1.0, "How can I help?", speaker="agent"))
    assert events == [] and s.dialogue.turns[-1].speaker == "agent" and s.dialogue.user_turns == 0


async def test_perceive_only_session_remembers_the_hand_over():
    s = AgentSession(clock=ManualClock())
    first = await s.process(TextTurn(1.0, "I want to talk to a real person"))
    second = await s.process(TextTurn(2.0, "hello?"))
    directive = lambda events: next(e for e in events if e.type == "directive").directive  # noqa: E731
    assert directive(first).escalate and not directive(second).escalate
    assert s.dialogue.escalated and s.dialogue.turns[-1].text == "hello?"

"""HostedSession: what every transport shares (ordering, media time, consent, event filtering, records, frames)."""

import asyncio
import json

import numpy as np
import pytest
from empathic.agent import AgentSession, HostedSession, SessionClosed
from empathic.agent.session.host import MediaClock
from empathic.agent.trust.consent import ConsentLedger
from empathic.perception import ModalityEstimate, TextTurn, VideoFrame
from empathic.perception.sources import replay
from empathic.policies import load_profile
from langchain_core.runnables import RunnableLambda

from empathic.testing import ManualClock, ScriptedPerceiver

FRAME = np.zeros((8, 8, 3), np.uint8)
HAPPY = ModalityEstimate("face", 0.0, {"happy": 1.0}, 0.7, 0.4, 0.9)


def hosted(**kw):
    face = ScriptedPerceiver([(0.0, HAPPY)], name="face")
    session = AgentSession(perceivers=[face], clock=ManualClock(), consent=kw.pop("consent", None))
    return HostedSession(session, **kw), face


def test_media_time_counts_from_the_start_unless_given():
    wall = [50.0]
    host, _ = hosted(now=MediaClock(lambda: wall[0]))
    wall[0] = 52.5
    assert host.media_time() == 2.5 and host.media_time(7.0) == 7.0


async def test_observations_are_processed_one_at_a_time_in_arrival_order():
    host, face = hosted()
    inside: list[str] = []
    perceive = face.perceive

    async def slowly(obs):
        inside.append(f"start {obs.t}")
        await asyncio.sleep(0.01)
        inside.append(f"end {obs.t}")
        return await perceive(obs)

    face.perceive = slowly
    await asyncio.gather(*(host.process(VideoFrame(t, FRAME)) for t in (1.0, 2.0, 3.0)))
    assert inside == ["start 1.0", "end 1.0", "start 2.0", "end 2.0", "start 3.0", "end 3.0"]


async def test_a_transport_gets_only_the_event_types_it_wants_as_records():
    host, _ = hosted(events={"turn_end", "directive"})
    events = await host.process(TextTurn(1.0, "I want a real person"))
    records = host.records(events)
    assert [r["type"] for r in records] == ["turn_end", "directive"] and records[1]["escalate"] is True
    json.dumps(records)
    with pytest.raises(ValueError, match="unknown event types"):
        hosted(events={"stat"})


async def test_consent_by_channel_and_the_view():
    host, face = hosted(consent=ConsentLedger())
    assert host.consent_view() == {"camera": False, "microphone": False, "text": False}
    assert await host.process(VideoFrame(0.5, FRAME)) == [] and face.calls == []
    await host.set_consent({"camera": True, "text": True}, t=1.0)
    await host.process(VideoFrame(1.5, FRAME))
    view = host.view()
    assert view["consent"] == {"camera": True, "microphone": False, "text": True}
    assert view["state"]["contributions"] == {"face": 1.0} and view["profile"] == "customer_service"
    await host.set_consent({"camera": False})  # revoking forgets what the camera showed
    assert host.view()["state"]["contributions"] == {}


async def test_frames_offered_while_one_is_read_are_dropped_and_counted():
    host, face = hosted()
    perceive = face.perceive

    async def slowly(obs):
        await asyncio.sleep(0.05)
        return await perceive(obs)

    face.perceive = slowly
    results = await asyncio.gather(*(host.offer_frame(VideoFrame(0.1 * i, FRAME)) for i in range(4)))
    assert [r is None for r in results] == [False, True, True, True] and host.dropped_frames == 3
    assert face.calls == [0.0]


async def test_run_feeds_a_source_and_yields_the_wanted_events():
    host, _ = hosted(events={"turn_end"})
    turns = [VideoFrame(0.5, FRAME), TextTurn(1.0, "hello"), TextTurn(5.0, "my order is late")]
    events = [e async for e in host.run(replay(turns))]
    assert [(e.type, e.t) for e in events] == [("turn_end", 1.0), ("turn_end", 5.0)]


async def test_close_drops_the_session():
    host, _ = hosted()
    host.close()
    assert host.closed
    with pytest.raises(SessionClosed):
        await host.process(TextTurn(1.0, "hello"))
    with pytest.raises(SessionClosed):
        host.view()


async def test_a_session_takes_a_policy_or_a_profile_name_once():
    seen = []
    responder = RunnableLambda(lambda request: seen.append(request.profile) or "ok")  # the session's own object
    by_name = AgentSession(policy="tutoring", responder=responder, clock=ManualClock())
    by_policy = AgentSession(policy=load_profile("tutoring"), responder=responder, clock=ManualClock())
    for session in (by_name, by_policy):
        await session.process(TextTurn(1.0, "I don't get it"))
    assert by_name.policy.name == by_policy.policy.name == "tutoring"
    assert seen == [by_name.policy, by_policy.policy] and seen[1] is by_policy.policy
    assert AgentSession().policy.name == "customer_service"

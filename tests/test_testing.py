"""empathic.testing as a user would use it: testing their own perceiver inside a session, with scripted neighbours."""

import numpy as np
from empathic.agent import AgentSession
from empathic.perception import AudioChunk, ModalityEstimate, PerceiverCapabilities, TextTurn, VideoFrame
from empathic.perception.sources import merge, replay

from empathic.testing import FailingPerceiver, FailingResponder, ManualClock, ScriptedPerceiver, ScriptedTranscriber

FRAME = np.zeros((8, 8, 3), np.uint8)


class ShoutingPerceiver:
    """The user's own perceiver: words in capitals read as anger."""

    name = "shouting"
    capabilities = PerceiverCapabilities("text", (TextTurn,))

    async def perceive(self, obs):
        loud = sum(w.isupper() and len(w) > 1 for w in obs.text.split())
        if not loud:
            return ModalityEstimate.unknown("text", obs.t, "no shouting", self.name)
        return ModalityEstimate("text", obs.t, {"angry": 1.0}, -0.7, 0.8, min(1.0, 0.4 + 0.2 * loud), source=self.name)


def media(seconds):
    """Frames and silent audio chunks every half second."""
    times = [i * 0.5 for i in range(int(seconds * 2))]
    frames = [VideoFrame(t, FRAME) for t in times]
    return merge(frames, [AudioChunk(t, np.zeros(8000, np.int16), 16000) for t in times])


async def run(session, observations):
    return [e async for e in session.run(replay(observations))]


async def test_my_perceiver_reads_transcribed_speech_beside_a_scripted_face():
    calm = ModalityEstimate("face", 0.0, {"neutral": 1.0}, 0.0, -0.2, 0.8)
    face = ScriptedPerceiver([(0.0, calm)], name="face")
    session = AgentSession(
        perceivers=[face, ShoutingPerceiver()],
        transcriber=ScriptedTranscriber([(1.0, "fine thanks"), (2.0, "this is NOT OK")]),
        responder=FailingResponder(["Sorry, "]),
        clock=ManualClock(),
        emit_estimates=True,
    )
    events = await run(session, media(3))
    mine = [e.estimate for e in events if e.type == "estimate" and e.estimate.source == "shouting"]
    assert [(e.t, e.confidence) for e in mine] == [(1.0, 0.0), (2.0, 0.8)]
    shouted = [e.state for e in events if e.type == "state" and e.t == 2.0][-1]  # the state at that turn end
    assert shouted.p("angry") > 0.2 and shouted.valence < 0 and set(shouted.contributions) == {"face", "text"}
    assert face.calls == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    replies = [e for e in events if e.type == "response"]
    assert len(replies) == 2 and all(r.fallback and r.text.startswith("Sorry, ") for r in replies)


async def test_my_perceiver_keeps_working_when_another_fails():
    session = AgentSession(
        perceivers=[FailingPerceiver(MemoryError("out of memory"), accepts=(TextTurn,)), ShoutingPerceiver()],
        clock=ManualClock(),
    )
    events = await run(session, [TextTurn(1.0, "WHY is this SO slow")])
    assert [e.component for e in events if e.type == "error"] == ["perceive.failing"]
    assert next(e for e in events if e.type == "state").state.dominant == "angry"


async def test_a_scripted_perceiver_says_nothing_before_its_first_time():
    face = ScriptedPerceiver([(1.0, ModalityEstimate("face", 0.0, {"happy": 1.0}, 0.6, 0.3, 0.9))])
    assert await face.perceive(VideoFrame(0.5, FRAME)) is None
    assert (await face.perceive(VideoFrame(1.5, FRAME))).t == 1.5

import numpy as np
from empathic.perception import ModalityEstimate
from empathic.ui.app import build_demo, forget, on_frame, on_text, set_consent
from empathic.ui.dashboard import Dashboard

from empathic.testing import ScriptedPerceiver


def happy_face():
    return ScriptedPerceiver([(0.0, ModalityEstimate("face", 0.0, {"happy": 1.0}, 0.7, 0.4, 0.9))])


async def drain(gen):
    return [x async for x in gen]


async def test_words_are_not_analysed_without_consent_but_answered():
    out = await drain(on_text("I'm furious, this is ridiculous!!", [], None, "customer_service"))
    history, tab = out[-1][0], out[-1][1]
    assert history[-1]["role"] == "assistant" and history[-1]["content"]
    assert tab.board.states[-1].confidence == 0.0


async def test_consented_words_stream_a_reply_and_fill_the_dashboard():
    tab, status = await set_consent(False, False, True, None, "customer_service")
    assert "text" in status
    out = await drain(on_text("This is ridiculous, it still doesn't work!", [], tab, "customer_service"))
    assert len(out) > 2  # streamed chunk by chunk
    history, tab, box, _probs, state_md, va, timeline, contributions, _cues, directive, _ = out[-1]
    assert history[-1]["content"] and box == ""
    assert "frustration" in state_md and "apologize" in directive
    assert (
        contributions == {"text": 1.0}
        and len(va) == 1
        and set(timeline["series"]) == {"valence", "arousal", "confidence"}
    )


async def test_frames_wait_for_camera_consent():
    tab, _ = await set_consent(False, False, True, None, "tutoring")
    face = happy_face()
    tab.host.session.perceivers.append(face)
    frame = np.zeros((48, 64, 3), np.uint8)
    await on_frame(frame, tab, "tutoring")
    assert face.calls == []
    tab, _ = await set_consent(True, False, True, tab, "tutoring")
    out = await on_frame(frame, tab, "tutoring")
    assert len(face.calls) == 1 and out[1] == tab.board.basic_probs() and tab.board.contributions() == {"face": 1.0}


async def test_new_profile_keeps_consent():
    tab, _ = await set_consent(False, False, True, None, "customer_service")
    out = await drain(on_text("hello", [], tab, "tutoring"))
    assert out[-1][1].profile == "tutoring" and out[-1][1].host.consent_view()["text"]
    assert tab.host.closed  # the old profile's session is gone


async def test_delete_forgets_everything():
    tab, _ = await set_consent(False, False, True, None, "tutoring")
    cleared = forget("tutoring", tab)
    assert cleared[0] == [] and cleared[1] is None and cleared[2:5] == (False, False, False)
    assert tab.host.closed
    frame = np.zeros((48, 64, 3), np.uint8)
    assert (await on_frame(frame, tab, "tutoring"))[0] is tab  # a late frame to a deleted session is ignored


def test_dashboard_history_is_bounded():
    from empathic.agent import EmotionUpdated
    from empathic.perception import EmotionState

    board = Dashboard()
    for i in range(1000):
        board.absorb([EmotionUpdated(float(i), EmotionState.neutral(float(i)))])
    assert len(board.states) == 300 and len(board.va_trail()) == 40


def test_demo_builds_for_each_profile():
    assert build_demo("tutoring") is not None


async def test_frames_arriving_while_one_is_read_are_dropped():
    import asyncio

    face = happy_face()
    perceive = face.perceive

    async def slowly(obs):
        await asyncio.sleep(0.05)
        return await perceive(obs)

    face.perceive = slowly
    tab, _ = await set_consent(True, False, False, None, "tutoring")
    tab.host.session.perceivers[:] = [face]
    frame = np.zeros((48, 64, 3), np.uint8)
    await asyncio.gather(*(on_frame(frame, tab, "tutoring") for _ in range(5)))
    assert len(face.calls) == 1 and tab.host.dropped_frames == 4
    await on_frame(frame, tab, "tutoring")
    assert len(face.calls) == 2


async def test_reply_chunks_reach_the_chat_while_the_responder_is_still_writing():
    import asyncio

    from langchain_core.runnables import RunnableLambda

    done = asyncio.Event()

    async def slow(request):
        yield "First. "
        await asyncio.wait_for(done.wait(), timeout=5)  # only continues once the first chunk was shown
        yield "Second."

    tab, _ = await set_consent(False, False, True, None, "customer_service")
    tab.host.session.responder = RunnableLambda(slow)
    gen = on_text("hello", [], tab, "customer_service")
    first = await gen.__anext__()
    assert first[0][-1]["content"] == "First. "
    done.set()
    rest = [x async for x in gen]
    assert rest[-1][0][-1]["content"] == "First. Second."

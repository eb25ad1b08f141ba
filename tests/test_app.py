import gradio as gr
import numpy as np
from empathic.perception import ModalityEstimate
from empathic.ui.app import Tab, build_demo, forget, on_frame, on_text, set_consent
from empathic.ui.dashboard import Dashboard

from empathic.testing import ScriptedPerceiver


def happy_face():
    return ScriptedPerceiver([(0.0, ModalityEstimate("face", 0.0, {"happy": 1.0}, 0.7, 0.4, 0.9))])


async def drain(gen):
    return [x async for x in gen]


async def test_words_are_not_analysed_without_consent_but_answered():
    out = await drain(on_text("I'm furious, this is ridiculous!!", None, "customer_service"))
    history, tab = out[-1][0], out[-1][1]
    assert history[-1]["role"] == "assistant" and history[-1]["content"]
    assert tab.board.states[-1].confidence == 0.0


async def test_consented_words_stream_a_reply_and_fill_the_dashboard():
    tab, status = await set_consent(False, False, True, None, "customer_service")
    assert "text" in status
    out = await drain(on_text("This is ridiculous, it still doesn't work!", tab, "customer_service"))
    assert len(out) > 2  # streamed chunk by chunk
    history, tab, _box, _probs, state_md, va, timeline, contributions, _cues, directive, _ = out[-1]
    assert history[-1]["content"]
    # the box is emptied once, then left alone: a message typed while the reply streams is not wiped
    assert out[0][2] == "" and all(update[2] == gr.skip() for update in out[1:])
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
    out = await drain(on_text("hello", tab, "tutoring"))
    assert out[-1][1].profile == "tutoring" and out[-1][1].host.consent_view()["text"]
    assert tab.host.closed  # the old profile's session is gone


async def test_delete_forgets_everything():
    tab, _ = await set_consent(False, False, True, None, "tutoring")
    cleared = forget("tutoring", tab)
    fresh = cleared[1]
    assert cleared[0] == [] and cleared[2:5] == (False, False, False)
    assert tab.host.closed and fresh is not tab and not any(fresh.host.consent_view().values())
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
    gen = on_text("hello", tab, "customer_service")
    first = await gen.__anext__()
    assert first[0][-1]["content"] == "First. "
    done.set()
    rest = [x async for x in gen]
    assert rest[-1][0][-1]["content"] == "First. Second."


async def test_a_spoken_reply_streams_to_the_page_and_a_barge_in_stops_it():
    import asyncio
    import base64
    import json

    from empathic.ui.app import POLL_S, poll, set_speak

    from empathic.testing import ToneSpeaker

    tab = Tab("customer_service", voice=ToneSpeaker())
    await tab.host.set_consent({"camera": False, "microphone": False, "text": True})
    await drain(on_text("My order never arrived and I need it for tomorrow.", tab, "customer_service"))
    assert tab.chat[0]["role"] == "user" and tab.chat[1]["content"]
    await asyncio.sleep(2 * POLL_S)
    chat, message, state = poll(tab)
    assert [m["role"] for m in chat] == ["user", "assistant"] and "Speaking" in state
    sent = json.loads(message)
    pcm = np.frombuffer(base64.b64decode(sent["chunks"][0]["pcm"]), "<i2")
    assert sent["stop"] is False and pcm.size > 0 and np.abs(pcm).max() > 1000  # audible, not silence
    assert poll(tab)[0] is not chat  # unchanged: nothing new to send (a skip)
    tab.host.session.interrupt()
    _, message, state = poll(tab)
    assert json.loads(message)["stop"] is True and "Speaking" not in state
    assert "interrupted" in tab.chat[-1]["content"]
    heard = tab.host.session.dialogue.turns[-1]
    assert heard.speaker == "agent" and len(heard.text) < len(tab.chat[1]["content"])  # only what was heard

    await set_speak(False, tab, "customer_service")
    await drain(on_text("Thanks, that helps.", tab, "customer_service"))
    assert tab.host.session.speech is None and tab.out.take() is None  # muted: the reply is text only


async def test_spoken_and_typed_turns_share_one_conversation():
    from empathic.agent.session.events import ResponseChunk, ResponseCompleted, TurnEnded
    from empathic.perception import TextTurn

    tab = Tab("tutoring")
    for e in (TurnEnded(1.0, TextTurn(1.0, "what is a fraction", source="asr")), ResponseChunk(1.2, "A part "),
              ResponseChunk(1.3, "of a whole."), ResponseCompleted(1.4, "A part of a whole.", "template")):  # fmt: skip
        tab._on_event(e)
    await drain(on_text("and a half?", tab, "tutoring"))
    roles = [m["role"] for m in tab.messages()]
    assert roles == ["user", "assistant", "user", "assistant"] and tab.messages()[1]["content"] == "A part of a whole."


def test_microphone_chunks_follow_on_while_their_arrival_jitters():
    import pytest

    tab = Tab("customer_service")
    clock = [10.0]
    tab.host.now = lambda: clock[0]
    times = []
    for arrival in (10.5, 11.3, 11.4, 12.2):  # 0.5 s chunks arriving late, then in a burst
        clock[0] = arrival
        times.append(tab.mic_time(0.5))
    assert times == pytest.approx([10.0, 10.5, 11.0, 11.5])
    clock[0] = 20.0  # the microphone was off for seconds: its next chunk is placed by the clock
    assert tab.mic_time(0.5) == pytest.approx(19.5)


def test_an_interrupted_reply_is_marked_even_below_the_words_that_cut_it():
    from empathic.agent.session.events import SpeechStopped, TurnEnded
    from empathic.perception import TextTurn

    tab = Tab("customer_service")
    tab.chat += [{"role": "assistant", "content": "Let me check your order and", "done": True}]
    tab._on_event(TurnEnded(5.0, TextTurn(5.0, "wait, one thing")))
    tab._on_event(SpeechStopped(5.1, "Let me check", 0.8, True))
    assert [m["content"] for m in tab.chat] == ["Let me check … _(interrupted)_", "wait, one thing"]

from ui.app import build_demo, forget, respond


async def drain(gen):
    return [x async for x in gen]


async def test_nothing_is_analysed_without_consent():
    out = await drain(respond("I'm furious", [], None, "customer_service", False))
    history, tab = out[-1][0], out[-1][1]
    assert tab is None and "consent" in history[-1]["content"]


async def test_consented_message_streams_a_reply_and_state():
    out = await drain(respond("This is ridiculous, it still doesn't work!", [], None, "customer_service", True))
    assert len(out) > 2  # streamed
    history, tab, _probs, state_md, directive_md, box = out[-1]
    assert history[-1]["role"] == "assistant" and history[-1]["content"]
    assert tab.session.dialogue.user_turns == 1
    assert "frustration" in state_md and "apologize" in directive_md and box == ""


async def test_delete_forgets_everything():
    out = await drain(respond("hello", [], None, "tutoring", True))
    cleared = forget(out[-1][1])
    assert cleared[0] == [] and cleared[1] is None


def test_demo_builds_for_each_profile():
    assert build_demo("tutoring") is not None

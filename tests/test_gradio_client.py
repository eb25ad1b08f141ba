"""The web demo's API through gradio_client, as another program would use it: consent first, then chat."""

import re

import pytest


@pytest.fixture(scope="module")
def client():
    from empathic.ui.app import build_demo, serve_on_loopback
    from gradio_client import Client

    demo = build_demo()
    yield Client(serve_on_loopback(demo) + "/", verbose=False)
    demo.close()


def reply_text(message):
    content = message["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def test_api_lists_the_chat_consent_and_forget_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/chat", "/consent", "/forget"} <= set(endpoints)


def test_consent_then_chat_returns_a_reply_and_the_state(client):
    before = client.predict("I'm furious, this is ridiculous!!", api_name="/chat")
    assert "Confidence** 0.00" in before[3]  # nothing analysed before consent, but answered
    assert reply_text(before[0][-1])
    status = client.predict(False, False, True, api_name="/consent")
    assert "text" in str(status)
    after = client.predict("This is ridiculous, it still doesn't work!", api_name="/chat")
    history, state_md, directive_md = after[0], after[3], after[8]
    assert history[-1]["role"] == "assistant"
    assert re.search(r"\b(sorry|apologi[sz]e)\b", reply_text(history[-1]), re.I)
    assert "frustration" in state_md and "apologize" in directive_md

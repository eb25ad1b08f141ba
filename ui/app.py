"""The Gradio web demo: webcam, microphone and typed chat into one session, with a live dashboard.

Consent comes first: each channel (camera, microphone, words) has its own box and nothing from a channel is
analysed until it is ticked; unticking forgets what was derived from it; "Delete my data" drops the whole session.
Frames are handled latest-only: a frame that arrives while an older one is still being read is dropped, so when
processing falls behind lag never accumulates. Each tab holds a :class:`HostedSession`, which does the ordering,
media time, consent and frame dropping. Run with ``empathic demo`` or ``python -m empathic.ui.app``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no usage reports leave the machine (before import)

import gradio as gr
import numpy as np
from empathic.agent import HostedSession, ResponseChunk, Settings, build_session
from empathic.agent.transports.loopback import free_port
from empathic.agent.trust.consent import Channel, ConsentLedger
from empathic.perception import AudioChunk, EmpathicError, TextTurn, VideoFrame
from empathic.policies import shipped_profiles
from empathic.ui.dashboard import Dashboard, consent_summary

CHANNEL_LABELS: dict[Channel, str] = {
    "camera": "Camera: read my facial expression and posture",
    "microphone": "Microphone: transcribe my speech and read my tone of voice",
    "text": "Words: read the emotion in what I type or say",
}


@dataclass
class Tab:
    """One browser tab's conversation and what its dashboard shows; held in memory only.

    ``granted`` are the channels consented to when it starts (a new profile keeps the consent already given).
    """

    profile: str
    base: Settings = field(default_factory=Settings)
    granted: tuple[Channel, ...] = ()
    host: HostedSession = field(init=False)
    board: Dashboard = field(default_factory=Dashboard)

    def __post_init__(self) -> None:
        settings = self.base.model_copy(update={"profile": self.profile})
        self.host = HostedSession(build_session(settings, consent=ConsentLedger(self.granted)))


def _tab(tab: Tab | None, profile: str) -> Tab:
    """This tab's session; a new profile starts a new session that keeps the consent already given."""
    if tab is None:
        return Tab(profile)
    if tab.profile == profile:
        return tab
    granted = tuple(c for c, ok in tab.host.consent_view().items() if ok)
    tab.host.close()
    return Tab(profile, tab.base, granted)


def _board(tab: Tab) -> tuple[Any, ...]:
    b = tab.board
    return (
        b.basic_probs(),
        b.state_summary(),
        b.va_trail(),
        b.timeline(),
        b.contributions(),
        b.cues(),
        b.directive_text(),
        "\n".join(b.transcripts),
    )


async def set_consent(camera: bool, microphone: bool, text: bool, tab: Tab | None, profile: str) -> tuple[Tab, str]:
    """Make the session's consent match the three boxes (one handler, so quick clicks cannot race)."""
    tab = _tab(tab, profile)
    await tab.host.set_consent({"camera": camera, "microphone": microphone, "text": text})
    return tab, consent_summary(tab.host)


async def on_text(
    message: str, history: list[dict[str, Any]], tab: Tab | None, profile: str
) -> AsyncIterator[tuple[Any, ...]]:
    """A typed turn: stream the reply into the chat, then refresh the dashboard."""
    if not message.strip():
        return
    tab = _tab(tab, profile)
    history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    unsubscribe = tab.host.session.subscribe(
        lambda e: chunks.put_nowait(e.text) if isinstance(e, ResponseChunk) else None
    )
    turn = asyncio.ensure_future(tab.host.process(TextTurn(tab.host.media_time(), message)))
    turn.add_done_callback(lambda _: chunks.put_nowait(None))
    reply = ""
    try:  # show each chunk as the responder writes it, while the turn is still running
        while (chunk := await chunks.get()) is not None:
            reply += chunk
            history[-1] = {"role": "assistant", "content": reply}
            yield (history, tab, "", *(gr.skip(),) * 8)
        tab.board.absorb(await turn)
    finally:
        unsubscribe()
    yield (history, tab, "", *_board(tab))


def _granted(tab: Tab | None, channel: Channel) -> bool:
    """Whether this tab analyses ``channel`` now (a deleted session analyses nothing)."""
    return tab is not None and not tab.host.closed and tab.host.consent_view()[channel]


async def on_frame(frame: np.ndarray | None, tab: Tab | None, profile: str) -> tuple[Any, ...]:
    """A webcam frame, latest only: one that comes while an older one is still being read is dropped."""
    if frame is None or not _granted(tab, "camera"):
        return (tab, *(gr.skip(),) * 8)
    try:
        events = await tab.host.offer_frame(VideoFrame(tab.host.media_time(), np.ascontiguousarray(frame, np.uint8)))
    except EmpathicError:
        return (tab, *(gr.skip(),) * 8)
    return (tab, *_board(tab)) if events is not None and tab.board.absorb(events) else (tab, *(gr.skip(),) * 8)


async def on_audio(
    chunk: tuple[int, np.ndarray] | None, history: list[dict[str, Any]], tab: Tab | None, profile: str
) -> tuple[Any, ...]:
    """A microphone chunk: speech that ends a turn appears in the chat with the reply."""
    if chunk is None or not _granted(tab, "microphone"):
        return (history, tab, *(gr.skip(),) * 8)
    rate, samples = chunk
    try:
        events = await tab.host.process(AudioChunk(tab.host.media_time(), np.asarray(samples), int(rate)))
    except EmpathicError:
        return (history, tab, *(gr.skip(),) * 8)
    if not tab.board.absorb(events):
        return (history, tab, *(gr.skip(),) * 8)
    for e in events:
        if e.type == "transcript":
            history = [*history, {"role": "user", "content": e.to_record()["text"]}]
        elif e.type == "response":
            history = [*history, {"role": "assistant", "content": e.to_record()["text"]}]
    return (history, tab, *_board(tab))


def forget(profile: str, tab: Tab | None = None) -> tuple[Any, ...]:
    """Delete this tab's session and everything derived from it; consent starts over."""
    if tab is not None:
        tab.host.close()
    empty = Dashboard()
    return (
        [],
        None,
        False,
        False,
        False,
        "Deleted. Nothing is analysed until you tick a box.",
        {},
        empty.state_summary(),
        empty.va_trail(),
        empty.timeline(),
        {},
        empty.cues(),
        empty.directive_text(),
        "",
    )


def build_demo(profile: str = "customer_service", settings: Settings | None = None) -> gr.Blocks:
    """The app; ``settings`` are every tab's defaults (e.g. ``Settings(responder="llm")``)."""
    base = settings or Settings()
    with gr.Blocks(title="empathic", analytics_enabled=False) as blocks:
        gr.Markdown(
            "# empathic\nA conversational agent that adapts to how you feel. Everything runs on this device; "
            "nothing is stored."
        )
        tab = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Group():
                    gr.Markdown("**Consent** (each channel separately; untick any time)")
                    boxes = {
                        c: gr.Checkbox(label=label, value=False, elem_id=f"consent-{c}")
                        for c, label in CHANNEL_LABELS.items()
                    }
                    consent_md = gr.Markdown("Nothing is analysed until you tick a box.", elem_id="consent-status")
                profile_box = gr.Dropdown(shipped_profiles(), value=profile, label="Profile", elem_id="profile")
                with gr.Row():
                    cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", elem_id="cam")
                    mic = gr.Audio(
                        sources=["microphone"], streaming=True, type="numpy", label="Microphone", elem_id="mic"
                    )
                chat = gr.Chatbot(label="Conversation", height=360, elem_id="chat")
                text = gr.Textbox(placeholder="Type a message and press Enter", show_label=False, elem_id="msg")
                delete = gr.Button("Delete my data", variant="secondary", elem_id="delete")
            with gr.Column(scale=2):
                probs = gr.Label(label="Emotion", num_top_classes=4, elem_id="emotion")
                state_md = gr.Markdown("_No evidence yet._", elem_id="state")
                va = gr.ScatterPlot(
                    x="valence",
                    y="arousal",
                    color="point",
                    x_lim=[-1, 1],
                    y_lim=[-1, 1],
                    label="Valence / arousal (trail)",
                    height=220,
                    elem_id="va",
                )
                timeline = gr.LinePlot(
                    x="t", y="value", color="series", y_lim=[-1, 1], label="Timeline", height=200, elem_id="timeline"
                )
                contributions = gr.Label(label="Evidence by modality", elem_id="contributions")
                cues = gr.Markdown("_No cues yet._", elem_id="cues")
                gr.Markdown("### Tone directive")
                directive = gr.Markdown("_No turn yet._", elem_id="directive")
                transcript = gr.Textbox(label="Transcript", lines=4, interactive=False, elem_id="transcript")
        board = [probs, state_md, va, timeline, contributions, cues, directive, transcript]

        blocks.load(lambda p: Tab(p, base), [profile_box], [tab])
        for box in boxes.values():
            box.change(set_consent, [*boxes.values(), tab, profile_box], [tab, consent_md], api_name="consent")
        text.submit(on_text, [text, chat, tab, profile_box], [chat, tab, text, *board], api_name="chat")
        cam.stream(
            on_frame,
            [cam, tab, profile_box],
            [tab, *board],
            stream_every=0.2,
            concurrency_limit=4,
            api_name="frame",
            show_progress="hidden",
        )
        mic.stream(
            on_audio,
            [mic, chat, tab, profile_box],
            [chat, tab, *board],
            stream_every=0.5,
            concurrency_limit=1,  # audio chunks must be heard in order
            api_name="audio",
            show_progress="hidden",
        )
        delete.click(forget, [profile_box, tab], [chat, tab, *boxes.values(), consent_md, *board], api_name="forget")
    return blocks


def serve_on_loopback(blocks: gr.Blocks) -> str:
    """Start ``blocks`` on a free 127.0.0.1 port without blocking (tests, benches); returns its URL."""
    port = free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return f"http://127.0.0.1:{port}"


if __name__ == "__main__":
    build_demo().launch()

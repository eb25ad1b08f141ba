"""The Gradio web demo: webcam, microphone and typed chat into one session, with a live dashboard.

Consent comes first: each channel (camera, microphone, words) has its own box and nothing from a channel is
analysed until it is ticked; unticking forgets what was derived from it; "Delete my data" drops the whole session.
Frames are handled latest-only: a frame that arrives while an older one is still being read is dropped, so when
processing falls behind lag never accumulates. Each tab holds a :class:`HostedSession`, which does the ordering,
media time, consent and frame dropping. Run with ``empathic demo`` or ``python -m empathic.ui.app``.

The agent answers aloud (a switch mutes it): the tab's session speaks in real time and a poll every
``POLL_S`` sends the page the audio handed out since (see :mod:`empathic.ui.voice`), the conversation as the session
saw it (typed and spoken turns in order, a reply cut by barge-in shown as cut) and whether the agent is speaking.
The conversation lives in the tab, not in the page, so a spoken turn and a typed one can never overwrite each other.
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
from empathic.agent.session.build import preload
from empathic.agent.session.events import Event, ResponseCompleted, SpeechStopped, TurnEnded
from empathic.agent.speech import Speaker, SpeechOutput, build_speaker
from empathic.agent.transports.loopback import free_port
from empathic.agent.trust.consent import Channel, ConsentLedger
from empathic.perception import AudioChunk, EmpathicError, TextTurn, VideoFrame
from empathic.policies import shipped_profiles
from empathic.ui.dashboard import Dashboard, consent_summary
from empathic.ui.voice import PLAYER_JS, RECEIVE_JS, VoiceOut

CHANNEL_LABELS: dict[Channel, str] = {
    "camera": "Camera: read my facial expression and posture",
    "microphone": "Microphone: transcribe my speech and read my tone of voice",
    "text": "Words: read the emotion in what I type or say",
}
POLL_S = 0.2
SPEECH_LEAD_S = 0.4  # audio handed to the page ahead of playback, so a poll's delay never leaves a gap
MIC_RESYNC_S = 1.5  # microphone chunks follow on from the last one unless the clock says this much went missing


@dataclass
class Tab:
    """One browser tab's conversation and what its dashboard shows; held in memory only.

    ``granted`` are the channels consented to when it starts (a new profile keeps the consent already given);
    ``voice`` is the speaker the replies are spoken with ("off": text only), ``speak`` the page's mute switch.
    """

    profile: str
    base: Settings = field(default_factory=Settings)
    granted: tuple[Channel, ...] = ()
    voice: str | Speaker = "off"
    speak: bool = True
    host: HostedSession = field(init=False)
    board: Dashboard = field(default_factory=Dashboard)
    chat: list[dict[str, Any]] = field(default_factory=list)
    out: VoiceOut = field(default_factory=VoiceOut)
    version: int = 0
    shown: tuple[int, str] = (-1, "")
    mic_next: float | None = None

    def __post_init__(self) -> None:
        settings = self.base.model_copy(update={"profile": self.profile})
        self.host = HostedSession(build_session(settings, consent=ConsentLedger(self.granted)))
        self.host.session.subscribe(self._on_event)
        self.set_speak(self.speak)

    def mic_time(self, seconds: float) -> float:
        """Media time at which a microphone chunk of ``seconds`` began: where the previous one ended, since the page
        records without gaps while their arrival jitters by a chunk or two under load (a jump in media time would
        end the open utterance mid-sentence); the clock's reading when they drift ``MIC_RESYNC_S`` apart."""
        began = max(0.0, self.host.media_time() - seconds)
        t = began if self.mic_next is None or abs(began - self.mic_next) > MIC_RESYNC_S else self.mic_next
        self.mic_next = t + seconds
        return t

    def set_speak(self, on: bool) -> None:
        """Speak the replies or not; muting stops the reply playing (the history keeps what was heard)."""
        self.speak = on
        session = self.host.session
        if not on or self.voice == "off":
            self.host.interrupt()
            session.speech = None
        elif session.speech is None:
            speaker = self.voice if isinstance(self.voice, Speaker) else build_speaker(self.voice)
            session.speech = SpeechOutput(speaker, realtime=True, clock=self.host.media_time, lead_s=SPEECH_LEAD_S)

    def _last_reply(self) -> dict[str, Any] | None:
        return next((m for m in reversed(self.chat) if m["role"] == "assistant"), None)

    def _on_event(self, e: Event) -> None:
        """The conversation as the session saw it: user turns (typed or spoken), replies as they stream."""
        self.out.absorb(e)
        last = self.chat[-1] if self.chat else None
        if isinstance(e, TurnEnded) and e.turn.speaker == "user":
            self.chat.append({"role": "user", "content": e.turn.text})
        elif isinstance(e, ResponseChunk):
            if last is not None and last["role"] == "assistant" and not last.get("done"):
                last["content"] += e.text
            else:
                self.chat.append({"role": "assistant", "content": e.text})
        elif isinstance(e, ResponseCompleted) and last is not None and last["role"] == "assistant":
            last.update(content=e.text, done=True)
        elif isinstance(e, SpeechStopped) and e.interrupted and (reply := self._last_reply()) is not None:
            # the reply cut off, even when the person's words that cut it are already in the chat below it
            reply["content"] = f"{e.heard} … _(interrupted)_" if e.heard else "_(interrupted before a word)_"
        else:
            return
        self.version += 1

    def messages(self) -> list[dict[str, Any]]:
        """The chat for the page (copies: the page diffs what it is sent)."""
        return [{"role": m["role"], "content": m["content"]} for m in self.chat]

    def talk_state(self) -> str:
        if self.host.session.speaking:
            return "🔊 **Speaking** (talk to interrupt)"
        if not self.host.closed and self.host.consent_view()["microphone"]:
            return "🎙️ **Listening**"
        return "⌨️ Type a message, or tick the microphone box to talk"


def _tab(tab: Tab | None, profile: str) -> Tab:
    """This tab's session; a new profile starts a new session that keeps the consent already given."""
    if tab is None:
        return Tab(profile)
    if tab.profile == profile:
        return tab
    granted = tuple(c for c, ok in tab.host.consent_view().items() if ok)
    tab.host.close()
    return Tab(profile, tab.base, granted, tab.voice, tab.speak)


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


async def on_text(message: str, tab: Tab | None, profile: str) -> AsyncIterator[tuple[Any, ...]]:
    """A typed turn: stream the reply into the chat, then refresh the dashboard."""
    if not message.strip():
        return
    tab = _tab(tab, profile)
    chunks: asyncio.Queue[bool | None] = asyncio.Queue()
    unsubscribe = tab.host.session.subscribe(
        lambda e: chunks.put_nowait(True) if isinstance(e, ResponseChunk) else None
    )
    turn = asyncio.ensure_future(tab.host.process(TextTurn(tab.host.media_time(), message)))
    turn.add_done_callback(lambda _: chunks.put_nowait(None))
    box: Any = ""  # the box is emptied once: later updates leave it alone, so a message typed meanwhile stays
    try:  # show each chunk as the responder writes it, while the turn is still running
        while await chunks.get() is not None:
            yield (tab.messages(), tab, box, *(gr.skip(),) * 8)
            box = gr.skip()
        tab.board.absorb(await turn)
    finally:
        unsubscribe()
    yield (tab.messages(), tab, box, *_board(tab))


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


async def on_audio(chunk: tuple[int, np.ndarray] | None, tab: Tab | None, profile: str) -> tuple[Any, ...]:
    """A microphone chunk; a spoken turn and its reply reach the chat through :func:`poll`."""
    if chunk is None or not _granted(tab, "microphone"):
        return (tab, *(gr.skip(),) * 8)
    rate, samples = chunk
    samples = np.asarray(samples)
    try:
        events = await tab.host.process(AudioChunk(tab.mic_time(samples.shape[0] / int(rate)), samples, int(rate)))
    except EmpathicError:
        return (tab, *(gr.skip(),) * 8)
    return (tab, *_board(tab)) if tab.board.absorb(events) else (tab, *(gr.skip(),) * 8)


def poll(tab: Tab | None) -> tuple[Any, ...]:
    """What changed since the last poll: the chat, audio for the player (or a stop), the speaking state."""
    if tab is None:
        return (gr.skip(),) * 3
    shown = (tab.version, tab.talk_state())
    chat = tab.messages() if shown[0] != tab.shown[0] else gr.skip()
    state = shown[1] if shown[1] != tab.shown[1] else gr.skip()
    tab.shown = shown
    message = tab.out.take()
    return chat, gr.skip() if message is None else message, state


async def set_speak(on: bool, tab: Tab | None, profile: str) -> Tab:
    """The mute switch."""
    tab = _tab(tab, profile)
    tab.set_speak(on)
    return tab


def forget(profile: str, tab: Tab | None = None) -> tuple[Any, ...]:
    """Delete this tab's session and everything derived from it; consent starts over (the settings stay)."""
    fresh = None
    if tab is not None:
        tab.host.close()
        fresh = Tab(profile, tab.base, voice=tab.voice, speak=tab.speak)
    empty = Dashboard()
    return (
        [],
        fresh,
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


def build_demo(profile: str = "customer_service", settings: Settings | None = None, voice: str = "auto") -> gr.Blocks:
    """The app; ``settings`` are every tab's defaults (e.g. ``Settings(responder="llm")``), ``voice`` the speaker
    of the replies (``off``, or a :data:`~empathic.agent.speech.VOICES` name)."""
    base = settings or Settings()
    # Every shared model loads now, once, as for the server: loaded by the first page load instead (7 s for the
    # embedded chat model), it held that load and the consent boxes queued behind it, and turns typed meanwhile went
    # to a session of their own, which the load's session then replaced (template replies, then the conversation gone).
    preload(base)
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
                with gr.Row():
                    talk = gr.Markdown(elem_id="talk-state")
                    speak = gr.Checkbox(label="Speak the replies", value=voice != "off", elem_id="speak",
                                        interactive=voice != "off")  # fmt: skip
                chat = gr.Chatbot(label="Conversation", height=360, elem_id="chat")
                text = gr.Textbox(placeholder="Type a message and press Enter", show_label=False, elem_id="msg")
                delete = gr.Button("Delete my data", variant="secondary", elem_id="delete")
                voice_out = gr.Textbox(visible=False, elem_id="voice-out")
                ticker = gr.Timer(POLL_S)
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

        # The session is made when the page loads, and consent is given in the same queue, one event at a time: a
        # box ticked before the load finished would otherwise make a session of its own that the load then replaced.
        session = {"concurrency_id": "session", "concurrency_limit": 1}

        def start(tab: Tab | None, profile: str) -> Tab:
            return tab if tab is not None else Tab(profile, base, voice=voice)

        blocks.load(start, [tab, profile_box], [tab], **session)
        blocks.load(None, js=PLAYER_JS)
        ticker.tick(poll, [tab], [chat, voice_out, talk], show_progress="hidden", concurrency_limit=None)
        voice_out.change(None, [voice_out], None, js=RECEIVE_JS)
        speak.change(set_speak, [speak, tab, profile_box], [tab], api_name="speak")
        for box in boxes.values():
            box.change(
                set_consent, [*boxes.values(), tab, profile_box], [tab, consent_md], api_name="consent", **session
            )
        # Every message counts: one sent while a reply is still being written (or spoken) waits its turn; Gradio's
        # default ("once") dropped it, leaving it in the box unsent.
        text.submit(
            on_text, [text, tab, profile_box], [chat, tab, text, *board], api_name="chat", trigger_mode="multiple"
        )
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
            [mic, tab, profile_box],
            [tab, *board],
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

"""The Gradio web demo: typed chat with a live view of the emotion state and the tone directive.

Nothing is analysed before the consent box is ticked. Each browser tab gets its own session, held in memory
only. Run with ``empathic demo`` or ``python -m ui.app``; ``demo`` is importable for Gradio's reload and tests.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from agent import AgentSession, DirectiveChosen, EmotionUpdated, ResponseChunk, Settings, build_session
from perception import EmotionState, TextTurn
from policies import ToneDirective, shipped_profiles

CONSENT_TEXT = (
    "I agree that my messages are analysed for emotion on this device while this tab is open. "
    "Nothing is stored or sent elsewhere."
)


@dataclass
class TabSession:
    """One browser tab's conversation; timestamps count from its start."""

    profile: str
    session: AgentSession = field(init=False)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.session = build_session(Settings(profile=self.profile))

    def now(self) -> float:
        return time.monotonic() - self.started


def _state_view(state: EmotionState) -> tuple[dict[str, float], str]:
    probs = dict(state.probs)
    complex_lines = ", ".join(f"{k} {v:.2f}" for k, v in state.complex_states.items() if v >= 0.2) or "none"
    md = (
        f"**Valence** {state.valence:+.2f} · **Arousal** {state.arousal:+.2f} · "
        f"**Confidence** {state.confidence:.2f}\n\n**Complex states:** {complex_lines}\n\n{state.explanation}"
    )
    return probs, md


def _directive_view(d: ToneDirective | None) -> str:
    if d is None:
        return "_No turn yet._"
    lines = [
        f"**Tone:** {d.tone} · **Length:** {d.verbosity} · **Pace:** {d.pacing}",
        f"**Moves:** {', '.join(d.moves) or 'none'}",
        "**Why:** " + "; ".join(d.reasons),
    ]
    if d.escalate:
        lines.append(f"**Hand-off to a person:** {d.handoff_summary}")
    return "\n\n".join(lines)


async def respond(
    message: str, history: list[dict[str, Any]], tab: TabSession | None, profile: str, consent: bool
) -> AsyncIterator[tuple[Any, ...]]:
    """Stream the reply into the chat and refresh the dashboard."""
    history = [*history, {"role": "user", "content": message}]
    if not consent:
        history.append(
            {
                "role": "assistant",
                "content": "Please tick the consent box first: nothing is analysed until you do.",
            }
        )
        yield history, tab, gr.skip(), gr.skip(), gr.skip(), ""
        return
    if tab is None or tab.profile != profile:
        tab = TabSession(profile)
    history.append({"role": "assistant", "content": ""})
    reply = ""
    state_probs: Any = gr.skip()
    state_md: Any = gr.skip()
    directive_md: Any = gr.skip()
    for event in await tab.session.process(TextTurn(tab.now(), message)):
        if isinstance(event, EmotionUpdated):
            state_probs, state_md = _state_view(event.state)
        elif isinstance(event, DirectiveChosen):
            directive_md = _directive_view(event.directive)
        elif isinstance(event, ResponseChunk):
            reply += event.text
            history[-1] = {"role": "assistant", "content": reply}
            yield history, tab, state_probs, state_md, directive_md, ""


def forget(tab: TabSession | None) -> tuple[Any, ...]:
    """Delete this tab's session and everything derived from it."""
    return [], None, None, "_Deleted._", _directive_view(None), ""


def build_demo(profile: str = "customer_service") -> gr.Blocks:
    with gr.Blocks(title="empathic") as blocks:
        gr.Markdown("# empathic\nA conversational agent that adapts to how you feel. Everything runs on this device.")
        tab = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                consent = gr.Checkbox(label=CONSENT_TEXT, value=False, elem_id="consent")
                profile_box = gr.Dropdown(shipped_profiles(), value=profile, label="Profile", elem_id="profile")
                chat = gr.Chatbot(label="Conversation", height=420, elem_id="chat")
                text = gr.Textbox(placeholder="Type a message and press Enter", show_label=False, elem_id="msg")
                delete = gr.Button("Delete my data", variant="secondary", elem_id="delete")
            with gr.Column(scale=2):
                probs = gr.Label(label="Emotion (basic)", num_top_classes=4, elem_id="emotion")
                state_md = gr.Markdown("_No evidence yet._", elem_id="state")
                gr.Markdown("### Tone directive")
                directive_md = gr.Markdown(_directive_view(None), elem_id="directive")
        text.submit(
            respond,
            [text, chat, tab, profile_box, consent],
            [chat, tab, probs, state_md, directive_md, text],
            api_name="respond",
        )
        delete.click(forget, [tab], [chat, tab, probs, state_md, directive_md, text], api_name="forget")
    return blocks


demo = build_demo()

if __name__ == "__main__":
    demo.launch()

"""What the web demo shows, computed from session events: pure functions, testable without a browser."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pandas as pd
from empathic.agent import DirectiveChosen, EmotionUpdated, Event, HostedSession, Transcript
from empathic.perception import EmotionState
from empathic.policies import ToneDirective

TRAIL = 40
TIMELINE = 300


@dataclass
class Dashboard:
    """The recent history the plots draw, bounded so a long session never grows memory."""

    states: deque[EmotionState] = field(default_factory=lambda: deque(maxlen=TIMELINE))
    transcripts: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    directive: ToneDirective | None = None

    def absorb(self, events: list[Event]) -> bool:
        """Take in a batch of session events; True when anything visible changed."""
        changed = False
        for e in events:
            if isinstance(e, EmotionUpdated):
                self.states.append(e.state)
            elif isinstance(e, DirectiveChosen):
                self.directive = e.directive
            elif isinstance(e, Transcript):
                self.transcripts.append(f"[{e.t:.1f}s] {e.turn.text}")
            else:
                continue
            changed = True
        return changed

    def state_summary(self) -> str:
        if not self.states:
            return "_No evidence yet._"
        s = self.states[-1]
        complex_lines = ", ".join(f"{k} {v:.2f}" for k, v in s.complex_states.items() if v >= 0.2) or "none"
        return (
            f"**Valence** {s.valence:+.2f} · **Arousal** {s.arousal:+.2f} · **Confidence** {s.confidence:.2f}"
            f"\n\n**Complex states:** {complex_lines}\n\n{s.explanation}"
        )

    def basic_probs(self) -> dict[str, float]:
        return dict(self.states[-1].probs) if self.states else {}

    def contributions(self) -> dict[str, float]:
        return dict(self.states[-1].contributions) if self.states else {}

    def cues(self) -> str:
        if not self.states or not self.states[-1].cues:
            return "_No cues yet._"
        return "\n".join(f"- **{c.modality or '?'}** {c}" for c in self.states[-1].cues)

    def va_trail(self) -> pd.DataFrame:
        """The last few valence/arousal points, oldest first, with their age for colouring."""
        recent = list(self.states)[-TRAIL:]
        return pd.DataFrame(
            {
                "valence": [s.valence for s in recent],
                "arousal": [s.arousal for s in recent],
                "point": ["now" if i == len(recent) - 1 else "earlier" for i in range(len(recent))],
            }
        )

    def timeline(self) -> pd.DataFrame:
        rows = [
            (s.t, name, value)
            for s in self.states
            for name, value in (("valence", s.valence), ("arousal", s.arousal), ("confidence", s.confidence))
        ]
        return pd.DataFrame(rows, columns=["t", "series", "value"])

    def directive_text(self) -> str:
        return directive_markdown(self.directive)


def directive_markdown(d: ToneDirective | None) -> str:
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


def consent_summary(host: HostedSession) -> str:
    granted = [c for c, ok in host.consent_view().items() if ok]
    notice = host.session.compliance.notice
    notice = f"\n\n{notice}" if notice else ""
    return ("Analysing: " + ", ".join(granted) if granted else "Nothing is analysed until you tick a box.") + notice

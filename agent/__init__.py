"""The agent: the session loop, its host for transports, responders, events and settings.

Imports ``policies`` and ``perception``.
"""

from empathic.agent.respond.template import ResponseRequest, TemplateResponder, realise
from empathic.agent.session.build import build_perceivers, build_responder, build_session
from empathic.agent.session.events import (
    ComponentFailed,
    DirectiveChosen,
    EmotionUpdated,
    EpisodeDetected,
    EstimateMade,
    Event,
    ResponseChunk,
    ResponseCompleted,
    SpeechAudio,
    SpeechStarted,
    SpeechStopped,
    Transcript,
    TurnEnded,
)
from empathic.agent.session.host import HostedSession, SessionClosed
from empathic.agent.session.latency import LatencyMetrics
from empathic.agent.session.loop import AgentSession
from empathic.agent.session.settings import Settings

__all__ = [
    "AgentSession",
    "ComponentFailed",
    "DirectiveChosen",
    "EmotionUpdated",
    "EpisodeDetected",
    "EstimateMade",
    "Event",
    "HostedSession",
    "LatencyMetrics",
    "ResponseChunk",
    "ResponseCompleted",
    "ResponseRequest",
    "SessionClosed",
    "Settings",
    "SpeechAudio",
    "SpeechStarted",
    "SpeechStopped",
    "TemplateResponder",
    "Transcript",
    "TurnEnded",
    "build_perceivers",
    "build_responder",
    "build_session",
    "realise",
]

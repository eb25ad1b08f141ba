"""The agent: the session loop, responders, events and settings. Imports ``policies`` and ``perception``."""

from agent.components import build_perceivers, build_responder, build_session
from agent.events import (
    ComponentFailed,
    DirectiveChosen,
    EmotionUpdated,
    EpisodeDetected,
    EstimateMade,
    Event,
    ResponseChunk,
    ResponseCompleted,
    Transcript,
    TurnEnded,
)
from agent.latency import LatencyMetrics
from agent.responder import ResponseRequest, TemplateResponder, realise
from agent.session import AgentSession
from agent.settings import Settings

__all__ = [
    "AgentSession",
    "ComponentFailed",
    "DirectiveChosen",
    "EmotionUpdated",
    "EpisodeDetected",
    "EstimateMade",
    "Event",
    "LatencyMetrics",
    "ResponseChunk",
    "ResponseCompleted",
    "ResponseRequest",
    "Settings",
    "TemplateResponder",
    "Transcript",
    "TurnEnded",
    "build_perceivers",
    "build_responder",
    "build_session",
    "realise",
]

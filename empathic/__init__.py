"""empathic: conversational agents that notice how people feel and adapt what they say and how they say it.

The curated public API; everything else is reachable through the subpackages ``empathic.perception``,
``empathic.policies``, ``empathic.agent`` and ``empathic.ui``. The LangChain plugin is imported on first use, so
``import empathic`` does not load ``langchain.agents``.
"""

import importlib as _importlib
import typing as _typing

from empathic.agent import (
    AgentSession,
    ComponentFailed,
    DirectiveChosen,
    EmotionUpdated,
    EpisodeDetected,
    EstimateMade,
    Event,
    HostedSession,
    ResponseChunk,
    ResponseCompleted,
    ResponseRequest,
    Settings,
    TemplateResponder,
    Transcript,
    TurnEnded,
    build_session,
)
from empathic.perception import (
    AudioChunk,
    Cue,
    EmotionState,
    EmpathicError,
    ModalityEstimate,
    ModelRegistry,
    Observation,
    ObservationError,
    Perceiver,
    PerceiverCapabilities,
    TextTurn,
    VideoFrame,
)
from empathic.policies import DialogueState, Policy, Profile, ToneDirective, load_profile, shipped_profiles

if _typing.TYPE_CHECKING:
    from empathic.agent.transports.plugin import EmpathyContext, EmpathyMiddleware

_LAZY = {"EmpathyMiddleware": "empathic.agent.transports.plugin", "EmpathyContext": "empathic.agent.transports.plugin"}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        return getattr(_importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'empathic' has no attribute {name!r}")


__all__ = [
    "AgentSession",
    "AudioChunk",
    "ComponentFailed",
    "Cue",
    "DialogueState",
    "DirectiveChosen",
    "EmotionState",
    "EmotionUpdated",
    "EmpathicError",
    "EmpathyContext",
    "EmpathyMiddleware",
    "EpisodeDetected",
    "EstimateMade",
    "Event",
    "HostedSession",
    "ModalityEstimate",
    "ModelRegistry",
    "Observation",
    "ObservationError",
    "Perceiver",
    "PerceiverCapabilities",
    "Policy",
    "Profile",
    "ResponseChunk",
    "ResponseCompleted",
    "ResponseRequest",
    "Settings",
    "TemplateResponder",
    "TextTurn",
    "ToneDirective",
    "Transcript",
    "TurnEnded",
    "VideoFrame",
    "build_session",
    "load_profile",
    "shipped_profiles",
]

"""Perception: observations in, modality estimates out, fused into one emotion state.

The bottom layer of empathic; it imports nothing from ``policies``, ``agent`` or ``ui``.
"""

from perception.clock import Clock, ManualClock, SystemClock
from perception.errors import (
    ComponentError,
    EmpathicError,
    LicenseError,
    MissingDependency,
    ModelError,
    ModelFetchError,
    ModelIntegrityError,
    ModelNotFound,
    ObservationError,
)
from perception.estimates import Cue, EmotionState, Episode, ModalityEstimate
from perception.fusion import Fuser, FusionConfig, WeightedFuser
from perception.labels import BASIC_EMOTIONS, COMPLEX_STATES, MODALITIES
from perception.observations import AudioChunk, Observation, TextTurn, VideoFrame
from perception.perceiver import BlockingPerceiver, Perceiver, PerceiverCapabilities
from perception.registry import ModelRegistry, ModelSpec, default_registry

__all__ = [
    "BASIC_EMOTIONS",
    "COMPLEX_STATES",
    "MODALITIES",
    "AudioChunk",
    "BlockingPerceiver",
    "Clock",
    "ComponentError",
    "Cue",
    "EmotionState",
    "EmpathicError",
    "Episode",
    "Fuser",
    "FusionConfig",
    "LicenseError",
    "ManualClock",
    "MissingDependency",
    "ModalityEstimate",
    "ModelError",
    "ModelFetchError",
    "ModelIntegrityError",
    "ModelNotFound",
    "ModelRegistry",
    "ModelSpec",
    "Observation",
    "ObservationError",
    "Perceiver",
    "PerceiverCapabilities",
    "SystemClock",
    "TextTurn",
    "VideoFrame",
    "WeightedFuser",
    "default_registry",
]

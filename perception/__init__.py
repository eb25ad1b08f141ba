"""Perception: observations in, modality estimates out, fused into one emotion state.

The bottom layer of empathic; it imports nothing from ``policies``, ``agent`` or ``ui``.
"""

from empathic.perception.clock import Clock, ManualClock, SystemClock
from empathic.perception.errors import (
    EmpathicError,
    LicenseError,
    MissingDependency,
    ModelError,
    ModelFetchError,
    ModelIntegrityError,
    ModelNotFound,
    ObservationError,
)
from empathic.perception.estimates import Cue, EmotionState, Episode, Intent, ModalityEstimate
from empathic.perception.fusion import Fuser, FusionConfig, WeightedFuser
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES, INTENTS
from empathic.perception.modalities import CHANNELS, MODALITIES, MODALITY_TABLE, Channel, Modality, modality
from empathic.perception.observations import AudioChunk, Observation, TextTurn, VideoFrame
from empathic.perception.perceiver import BlockingPerceiver, Perceiver, PerceiverCapabilities
from empathic.perception.registry import ModelRegistry, ModelSpec, default_registry

__all__ = [
    "BASIC_EMOTIONS",
    "CHANNELS",
    "COMPLEX_STATES",
    "INTENTS",
    "MODALITIES",
    "MODALITY_TABLE",
    "AudioChunk",
    "BlockingPerceiver",
    "Channel",
    "Clock",
    "Cue",
    "EmotionState",
    "EmpathicError",
    "Episode",
    "Fuser",
    "FusionConfig",
    "Intent",
    "LicenseError",
    "ManualClock",
    "MissingDependency",
    "Modality",
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
    "modality",
]

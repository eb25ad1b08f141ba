"""Configuration of a session, validated by pydantic; every field has a working offline default."""

from __future__ import annotations

from typing import Literal

from empathic.agent.respond.llm_config import LLMSettings
from empathic.agent.trust.compliance import ComplianceSettings
from empathic.perception import FusionConfig
from empathic.perception.voice import VoiceConfig
from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str = Field("customer_service", description="shipped profile name or path to a profile YAML")
    responder: str = Field("template", description="'template', 'llm' (a chat model, see llm), or 'none'")
    llm: LLMSettings = Field(default_factory=LLMSettings)
    state_interval: float = Field(0.5, ge=0.0, description="least media seconds between two state events")
    emit_estimates: bool = Field(False, description="also emit each perceiver's estimate as an event")
    text_model: str = Field(
        "minilm-text-heads",
        description="text perceiver: a MiniLM heads id (minilm-text-heads; falls back to the lexicon when not "
        "fetched), 'lexicon', or 'hf:<model or folder>'",
    )
    face: bool = Field(True, description="read faces in video frames (models load on the first frame)")
    body: bool = Field(True, description="read posture in video frames, at body_rate_hz")
    body_rate_hz: float = Field(5.0, gt=0.0, description="most body readings per media second")
    voice: bool = Field(True, description="transcribe audio and read vocal emotion (models load on the first chunk)")
    speech: VoiceConfig = Field(default_factory=VoiceConfig)
    speaker: Literal["off", "auto", "piper", "espeak"] = Field(
        "off", description="speak the replies: 'auto' (the piper voice when fetched, else espeak-ng), 'piper', 'espeak'"
    )
    fusion: FusionConfig = Field(default_factory=FusionConfig)
    compliance: ComplianceSettings = Field(default_factory=ComplianceSettings)

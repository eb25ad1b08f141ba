"""Builds sessions from settings: which perceivers, fuser, policy and responder a configuration means."""

from __future__ import annotations

import logging

import numpy as np
from empathic.agent.respond.llm_config import build_llm_responder
from empathic.agent.respond.template import ResponseRequest, TemplateResponder
from empathic.agent.session.loop import AgentSession
from empathic.agent.session.settings import Settings
from empathic.agent.speech import SpeechOutput, build_speaker
from empathic.agent.trust.compliance import decide
from empathic.agent.trust.consent import ConsentLedger
from empathic.perception import Clock, EmpathicError, LicenseError, Perceiver, TextTurn, WeightedFuser
from empathic.perception.face import BodyPerceiver, FacePerceiver
from empathic.perception.face.body import shared_pose
from empathic.perception.face.perceiver import shared_face_models
from empathic.perception.text import LexiconTextPerceiver
from empathic.perception.text.embedder import MiniLMEmbedder
from empathic.perception.text.factory import build_text_perceiver
from empathic.perception.voice import SpeechPipeline, VoiceConfig
from empathic.perception.voice.asr import AsrBackend
from langchain_core.runnables import Runnable

log = logging.getLogger(__name__)


def build_perceivers(settings: Settings, *, embedder: MiniLMEmbedder | None = None) -> list[Perceiver]:
    """The perceivers the offline defaults provide; ``embedder`` runs the MiniLM text model (default: in process)."""
    text = build_text_perceiver(settings.text_model, embedder=embedder)
    perceivers: list[Perceiver] = [text]
    if not isinstance(text, LexiconTextPerceiver):
        # the cue lexicon beside a learned model: it catches the short, explicit complaints ("ridiculous",
        # "THREE times already!!") that a model trained on Reddit comments reads as neutral
        perceivers.append(LexiconTextPerceiver())
    if settings.face:
        perceivers.append(FacePerceiver())
    if settings.body:
        perceivers.append(BodyPerceiver(max_rate_hz=settings.body_rate_hz))
    return perceivers


def check_commercial_use(perceivers: list[Perceiver]) -> None:
    """Refuse perceivers whose weights do not allow commercial use, naming the way out."""
    barred = [p.name for p in perceivers if not p.capabilities.commercial_use]
    if barred:
        raise LicenseError(
            f"perceivers {barred} use weights that forbid commercial use; this deployment declares commercial use. "
            "Switch them off in the settings or use their commercial-safe alternative (see `empathic models list`)."
        )


def build_responder(settings: Settings) -> Runnable[ResponseRequest, str] | None:
    if settings.responder == "none":
        return None
    if settings.responder == "template":
        return TemplateResponder()
    if settings.responder == "llm":
        return build_llm_responder(settings.llm)
    raise ValueError(f"unknown responder {settings.responder!r}; expected 'template', 'llm' or 'none'")


def build_transcriber(settings: Settings, *, asr: AsrBackend | None = None) -> SpeechPipeline | None:
    """The speech pipeline when voice is on; a commercial deployment gets the prosody-only (licence-free) emotion.
    ``asr`` recognises speech instead of the configured backend (the Ray backend's deployment)."""
    if not settings.voice:
        return None
    return SpeechPipeline(speech_config(settings), backend=asr)


def speech_config(settings: Settings) -> VoiceConfig:
    """The speech settings in force: a commercial deployment reads vocal emotion from prosody alone."""
    if settings.compliance.commercial_use:
        return settings.speech.model_copy(update={"commercial": True, "emotion": "prosody"})
    return settings.speech


def build_session(
    settings: Settings | None = None,
    *,
    perceivers: list[Perceiver] | None = None,
    responder: Runnable[ResponseRequest, str] | None = None,
    clock: Clock | None = None,
    consent: ConsentLedger | None = None,
    asr: AsrBackend | None = None,
) -> AgentSession:
    """A ready session; explicit ``perceivers``, ``responder`` and ``asr`` replace the configured ones.

    The compliance guard switches off modalities the deployment may not infer emotions from, and a commercial
    deployment refuses perceivers whose weights forbid commercial use. With ``settings.speaker`` on, replies are
    spoken on media time (a replay); a live transport gives the session a realtime :class:`SpeechOutput` instead.
    """
    settings = settings or Settings()
    chosen = build_perceivers(settings) if perceivers is None else perceivers
    if settings.compliance.commercial_use:
        check_commercial_use(chosen)
    return AgentSession(
        perceivers=chosen,
        consent=consent,
        compliance=decide(settings.compliance),
        fuser=WeightedFuser(settings.fusion),
        policy=settings.profile,
        responder=responder if responder is not None else build_responder(settings),
        clock=clock,
        state_interval=settings.state_interval,
        emit_estimates=settings.emit_estimates,
        transcriber=build_transcriber(settings, asr=asr),
        speech=None if settings.speaker == "off" else SpeechOutput(build_speaker(settings.speaker)),
    )


def preload(settings: Settings) -> None:
    """Load now every model that sessions built from ``settings`` share, so no person's first request waits for one.

    A voice or chat model that is not installed is logged and skipped: the server still serves text and video (a
    session that needs the chat model then fails as it did without the preload).
    """
    build_text_perceiver(settings.text_model).estimate(TextTurn(0.0, "Hello, thanks for your help."))
    try:
        build_responder(settings)  # the chat model: the embedded one loads here, once per process (about 7 s)
    except EmpathicError as exc:
        log.warning("chat model not preloaded: %s", type(exc).__name__)
    blank = np.full((240, 320, 3), 128, np.uint8)
    if settings.face:
        shared_face_models().warm(blank)
    if settings.body:
        shared_pose().landmarks(blank)
    try:
        transcriber = build_transcriber(settings)
        if transcriber is not None:
            transcriber.load()
    except EmpathicError as exc:
        log.warning("voice models not preloaded: %s", type(exc).__name__)

"""Builds sessions from settings: which perceivers, fuser, policy and responder a configuration means."""

from __future__ import annotations

from langchain_core.runnables import Runnable

from agent.responder import ResponseRequest, TemplateResponder
from agent.session import AgentSession
from agent.settings import Settings
from perception import Clock, Perceiver, WeightedFuser
from perception.text import LexiconTextPerceiver
from policies import load_profile


def build_perceivers(settings: Settings) -> list[Perceiver]:
    """The perceivers the offline defaults provide."""
    return [LexiconTextPerceiver()]


def build_responder(settings: Settings) -> Runnable[ResponseRequest, str] | None:
    if settings.responder == "none":
        return None
    if settings.responder == "template":
        return TemplateResponder()
    raise ValueError(f"unknown responder {settings.responder!r}; expected 'template' or 'none'")


def build_session(
    settings: Settings | None = None,
    *,
    perceivers: list[Perceiver] | None = None,
    responder: Runnable[ResponseRequest, str] | None = None,
    clock: Clock | None = None,
) -> AgentSession:
    """A ready session; explicit ``perceivers`` and ``responder`` replace the configured ones."""
    settings = settings or Settings()
    return AgentSession(
        perceivers=build_perceivers(settings) if perceivers is None else perceivers,
        fuser=WeightedFuser(settings.fusion),
        policy=load_profile(settings.profile),
        responder=responder if responder is not None else build_responder(settings),
        clock=clock,
        profile=settings.profile,
        state_interval=settings.state_interval,
        emit_estimates=settings.emit_estimates,
    )

"""Configuration of the LLM responder and the one place that turns it into a chat model and a responder."""

from __future__ import annotations

import os
from functools import lru_cache

from empathic.agent.respond.llm import LLMResponder
from empathic.agent.respond.local_llm import Runtime
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

EMBEDDED = "embedded"


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_model: str = Field(
        EMBEDDED,
        description="'embedded' (SmolLM2-135M, offline) or 'provider:model' for langchain's init_chat_model, "
        "e.g. 'ollama:llama3.2' or 'openai:gpt-4o-mini' (needs that provider's package)",
    )
    runtime: Runtime = Field(
        "auto",
        description="embedded model runtime; auto takes llama-cpp-python when installed, else CTranslate2 when "
        "its converted model is fetched, else transformers",
    )
    max_new_tokens: int = Field(64, gt=0, description="most tokens the embedded model writes per reply")
    threads: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        description="intra-op threads of the embedded model through CTranslate2 (default: 2 where the machine has 2 "
        "cores or more); transformers stays on one",
    )
    memory_turns: int = Field(
        2,
        ge=0,
        description="earlier turns sent to the model, newest first, each cut to 16 words: every token of them is "
        "computed again on each turn before the first reply token",
    )
    first_token_timeout_s: float | None = Field(
        10.0, gt=0.0, description="seconds to wait for the first token before the template answers (None: wait)"
    )


@lru_cache(maxsize=4)
def _embedded(runtime: str, max_new_tokens: int, threads: int) -> BaseChatModel:
    """One embedded model per process, shared by every session (it serialises its own generations)."""
    from empathic.agent.respond.local_llm import load_embedded_chat_model

    return load_embedded_chat_model(runtime, max_new_tokens, threads)  # type: ignore[arg-type]


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    if settings.chat_model == EMBEDDED:
        return _embedded(settings.runtime, settings.max_new_tokens, settings.threads)
    from langchain.chat_models import init_chat_model

    return init_chat_model(settings.chat_model)


def build_llm_responder(settings: LLMSettings, model: BaseChatModel | None = None) -> LLMResponder:
    """An :class:`LLMResponder` over ``model``, or over the configured chat model when none is given."""
    return LLMResponder(
        model or build_chat_model(settings),
        memory_turns=settings.memory_turns,
        first_token_timeout_s=settings.first_token_timeout_s,
    )

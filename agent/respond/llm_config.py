"""Configuration of the LLM responder and the one place that turns it into a chat model and a responder."""

from __future__ import annotations

from functools import lru_cache

from empathic.agent.respond.llm import LLMResponder
from empathic.agent.respond.local_llm import Backend
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
    backend: Backend = Field("auto", description="embedded model runtime; auto takes llama-cpp-python when installed")
    max_new_tokens: int = Field(64, gt=0, description="most tokens the embedded model writes per reply")
    memory_tokens: int = Field(256, ge=0, description="earlier turns sent to the model, newest first, in tokens")
    first_token_timeout_s: float | None = Field(
        10.0, gt=0.0, description="seconds to wait for the first token before the template answers (None: wait)"
    )


@lru_cache(maxsize=4)
def _embedded(backend: str, max_new_tokens: int) -> BaseChatModel:
    """One embedded model per process, shared by every session (it serialises its own generations)."""
    from empathic.agent.respond.local_llm import load_embedded_chat_model

    return load_embedded_chat_model(backend, max_new_tokens)  # type: ignore[arg-type]


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    if settings.chat_model == EMBEDDED:
        return _embedded(settings.backend, settings.max_new_tokens)
    from langchain.chat_models import init_chat_model

    return init_chat_model(settings.chat_model)


def build_llm_responder(settings: LLMSettings, model: BaseChatModel | None = None) -> LLMResponder:
    """An :class:`LLMResponder` over ``model``, or over the configured chat model when none is given."""
    return LLMResponder(
        model or build_chat_model(settings),
        memory_tokens=settings.memory_tokens,
        first_token_timeout_s=settings.first_token_timeout_s,
    )

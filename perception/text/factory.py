"""Builds the configured text perceiver from one string, falling back to the lexicon when weights are missing.

``lexicon`` is VADER and cue patterns; ``hf:<model id or folder>`` a Hugging Face classifier; any other value a
registry id of MiniLM heads. Falling back keeps an offline install working (with a logged warning) instead of
failing a session because a model was never fetched.
"""

from __future__ import annotations

import logging

from empathic.perception.errors import ModelError
from empathic.perception.registry import ModelRegistry
from empathic.perception.text.embedder import MiniLMEmbedder
from empathic.perception.text.lexicon import LexiconTextPerceiver
from empathic.perception.text.minilm import DEFAULT_HEADS, MiniLMTextPerceiver
from empathic.perception.text.transformers_backend import TransformersTextConfig, TransformersTextPerceiver

log = logging.getLogger(__name__)

TextPerceiver = MiniLMTextPerceiver | TransformersTextPerceiver | LexiconTextPerceiver


def build_text_perceiver(
    spec: str = DEFAULT_HEADS,
    *,
    registry: ModelRegistry | None = None,
    fallback: bool = True,
    embedder: MiniLMEmbedder | None = None,
) -> TextPerceiver:
    """The perceiver ``spec`` names; with ``fallback`` a MiniLM model or heads that do not resolve give the lexicon.

    ``embedder`` runs the MiniLM forward pass of a heads id (default: one in this process; the Ray backend's is served).
    """
    if spec == "lexicon":
        return LexiconTextPerceiver()
    if spec.startswith("hf:"):
        return TransformersTextPerceiver(TransformersTextConfig(model=spec.removeprefix("hf:")))
    try:
        perceiver = MiniLMTextPerceiver(spec, registry=registry, embedder=embedder)
        _ = perceiver.model_dir  # resolve (and verify) the MiniLM files now, not on the first turn
    except ModelError as exc:
        if not fallback:
            raise
        log.warning("text model %r unavailable (%s); falling back to the lexicon text perceiver", spec, exc)
        return LexiconTextPerceiver()
    return perceiver

"""Recipes that derive a model's files from another registry model's verified files, run by ``empathic models fetch``.

A derived entry in ``models.toml`` names its source model and a recipe here; the registry fetches and verifies the
source, runs the recipe into a staging folder, and checks every output file against its declared sha256 like any
downloaded file (the recipes are byte-deterministic for pinned library versions).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")
"""What a chat runtime needs beside CTranslate2's own files to apply the chat template and decode."""


def gguf_to_transformers(gguf: Path, out: Path) -> None:
    """A GGUF causal LM and its tokenizer as a plain (float32) transformers folder.

    A GGUF-loaded model refuses ``save_pretrained``, so its weights are copied into a model built from its config,
    without the GGUF quantization entry (CTranslate2 refuses a config that carries one).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(loaded.state_dict())
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


def transformers_to_ct2(folder: Path, out: Path, quantization: str = "int8") -> None:
    """A transformers causal LM folder as a CTranslate2 model, with the tokenizer files copied beside it."""
    from ctranslate2.converters import TransformersConverter

    files = [f for f in TOKENIZER_FILES if (folder / f).is_file()]
    TransformersConverter(str(folder), copy_files=files).convert(str(out), quantization=quantization, force=True)


def gguf_to_ct2_int8(source: Path, out: Path) -> None:
    """The one GGUF file in ``source`` converted to a CTranslate2 int8 model in ``out`` (about 4 minutes)."""
    (gguf,) = sorted(source.glob("*.gguf"))
    with tempfile.TemporaryDirectory(prefix="empathic-hf-") as tmp:
        gguf_to_transformers(gguf, Path(tmp))
        transformers_to_ct2(Path(tmp), out, "int8")


Recipe = Callable[[Path, Path], None]
"""``(verified source model folder, empty output folder) -> None``: writes the derived model's files."""

RECIPES: dict[str, Recipe] = {"gguf-to-ct2-int8": gguf_to_ct2_int8}

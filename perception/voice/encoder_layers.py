"""Whisper encoder layers below the last, through CTranslate2 (whose ``encode`` returns only the last).

CTranslate2 counts a Whisper encoder's layers by the variables its ``model.bin`` holds, so a copy of that file
without the layers above ``k`` is an encoder that stops at layer ``k`` (its final layer norm still applied). The
copy is made once from the verified weights, kept beside the model folder with its sha256 (checked at every load,
made again when damaged), like the MiniLM graph. CTranslate2 needs a decoder to load a model, so the copy keeps the
first decoder layer and the embeddings: about 78 MB for whisper-base. Running it costs k/6 of whisper-base's
encoder pass; the emotion head reads layers 2 and 3 (:data:`~empathic.perception.voice.asr.EMOTION_LAYERS`).
"""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np
from empathic.perception.registry import derived_file, made_from

RECIPE = "whisper-encoder-prefix-v1"
_CUT = re.compile(r"^(encoder|decoder)/layer_(\d+)/")


def _string(fh: BinaryIO) -> str:
    (n,) = struct.unpack("<H", fh.read(2))
    return fh.read(n)[:-1].decode()


def _put_string(fh: BinaryIO, text: str) -> None:
    data = text.encode()
    fh.write(struct.pack("<H", len(data) + 1) + data + b"\0")


def cut_model(source: Path, target: Path, encoder_layers: int) -> None:
    """Copy the CTranslate2 Whisper ``model.bin`` at ``source`` to ``target`` with encoder layers
    ``0 .. encoder_layers - 1`` and decoder layer 0 only (the binary layout of ``ctranslate2.specs``, version 6)."""

    def keep(name: str) -> bool:
        cut = _CUT.match(name)
        if cut is None:
            return True
        return int(cut.group(2)) < (encoder_layers if cut.group(1) == "encoder" else 1)

    with source.open("rb") as src, target.open("wb") as dst:
        (version,) = struct.unpack("<I", src.read(4))
        if version != 6:
            raise ValueError(f"{source}: CTranslate2 model format {version}, this cut reads format 6")
        spec = _string(src)
        (revision, count) = struct.unpack("<II", src.read(8))
        if spec != "WhisperSpec":
            raise ValueError(f"{source} holds a {spec}, not a Whisper model")
        kept: list[tuple[str, bytes]] = []
        found = 0
        for _ in range(count):
            name = _string(src)
            (rank,) = struct.unpack("<B", src.read(1))
            head = src.read(4 * rank + 1)
            (size,) = struct.unpack("<I", src.read(4))
            body = head + struct.pack("<I", size) + src.read(size)
            cut = _CUT.match(name)
            if cut and cut.group(1) == "encoder":
                found = max(found, int(cut.group(2)) + 1)
            if keep(name):
                kept.append((name, struct.pack("<B", rank) + body))
        if not 1 <= encoder_layers <= found:
            raise ValueError(f"{source} has {found} encoder layers; asked for the first {encoder_layers}")
        (aliases,) = struct.unpack("<I", src.read(4))
        pairs = [(_string(src), _string(src)) for _ in range(aliases)]
        dst.write(struct.pack("<I", version))
        _put_string(dst, spec)
        dst.write(struct.pack("<II", revision, len(kept)))
        for name, record in kept:
            _put_string(dst, name)
            dst.write(record)
        pairs = [(a, b) for a, b in pairs if keep(a) and keep(b)]
        dst.write(struct.pack("<I", len(pairs)))
        for alias, name in pairs:
            _put_string(dst, alias)
            _put_string(dst, name)


def prefix_folder(folder: Path, encoder_layers: int) -> Path:
    """The model folder of ``folder``'s encoder cut after ``encoder_layers`` layers, made on first use; named by
    what it was made from (the weights file's size and time, the layer count, the recipe)."""
    weights = folder / "model.bin"
    digest = made_from(weights, str(encoder_layers), RECIPE)
    target = folder.parent / ".ct2" / f"{folder.name}-encoder{encoder_layers}-{digest}"
    derived_file(target / "model.bin", lambda tmp: cut_model(weights, tmp, encoder_layers))
    for extra in folder.iterdir():  # vocabulary and configuration: small, copied as they are
        if extra.name != "model.bin" and extra.is_file() and not (target / extra.name).is_file():
            shutil.copy(extra, target / extra.name)
    return target


class LowerLayers:
    """The states of chosen encoder layers for mel features, one cut-down CTranslate2 encoder per layer."""

    def __init__(self, folder: Path, layers: tuple[int, ...], device: str, compute_type: str, threads: int) -> None:
        import ctranslate2

        self.layers = layers
        self.models = [
            ctranslate2.models.Whisper(
                str(prefix_folder(folder, k)), device=device, compute_type=compute_type, intra_threads=threads
            )
            for k in layers
        ]

    def states(self, features: np.ndarray) -> list[np.ndarray]:
        """(frames // 2, width) states of each layer for (mels, frames) features."""
        import ctranslate2

        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
        return [np.asarray(m.encode(view, to_cpu=True))[0] for m in self.models]

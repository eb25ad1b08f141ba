"""Imports point one way: ui -> agent -> policies -> perception, all under ``empathic``; tooling stays beside."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["perception", "policies", "agent", "ui"]
FOLDERS = [*LAYERS, "tooling", "empathic", "tests", "examples"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "empathic" and len(parts) > 1 else None


@pytest.mark.parametrize("layer", LAYERS)
def test_no_upward_imports(layer):
    above = {*LAYERS[LAYERS.index(layer) + 1 :], "tooling"}
    offenders = {}
    for p in (ROOT / layer).rglob("*.py"):
        # the CLI may import tooling, inside the subcommand that needs it
        top_level = {n for n in imported_modules(p) if layer_of(n) in above}
        if p.name == "cli.py":
            tree = ast.parse(p.read_text(encoding="utf-8"))
            top_level = {
                n.module
                for n in tree.body
                if isinstance(n, ast.ImportFrom) and n.module and layer_of(n.module) in above
            }
        if top_level:
            offenders[str(p.relative_to(ROOT))] = sorted(top_level)
    assert offenders == {}


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_bare_top_level_imports(folder):
    """Everything is imported as ``empathic.…``: a bot's own ``agent`` or ``ui`` package must never be shadowed."""
    bare = {
        str(p.relative_to(ROOT)): sorted(n for n in imported_modules(p) if n.split(".")[0] in {*LAYERS, "tooling"})
        for p in (ROOT / folder).rglob("*.py")
    }
    assert {k: v for k, v in bare.items() if v} == {}

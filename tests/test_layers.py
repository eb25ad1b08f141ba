"""Imports point one way: ui -> agent -> policies -> perception."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["perception", "policies", "agent", "ui"]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_no_upward_imports(layer):
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_packages(p) & above)
        for p in (ROOT / layer).rglob("*.py")
        if imported_packages(p) & above
    }
    assert offenders == {}

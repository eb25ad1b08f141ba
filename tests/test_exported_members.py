"""Each package's ``__all__`` is curated: every name exists, and nothing public is left out by accident."""

import importlib

import pytest


@pytest.mark.parametrize("package", ["empathic", "empathic.perception", "empathic.policies", "empathic.agent"])
def test_all_is_exact(package):
    mod = importlib.import_module(package)
    exported = set(mod.__all__)
    assert len(exported) == len(mod.__all__), "duplicates in __all__"
    public = {n for n in dir(mod) if not n.startswith("_") and not isinstance(getattr(mod, n), type(mod))}
    lazy = set(getattr(mod, "_LAZY", ()))  # imported on first use, like the LangChain plugin
    assert exported == public | lazy
    assert all(getattr(mod, name) is not None for name in exported)

"""Import guard for optional dependencies: a missing one names the extra that installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from empathic.perception.errors import MissingDependency


def require(module: str, extra: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming ``empathic[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(module, extra, purpose) from exc

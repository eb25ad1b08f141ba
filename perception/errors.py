"""Errors raised by empathic, one tree for the whole framework.

Every error carries ``retryable``: whether trying the same call again can succeed.

    EmpathicError
    ├── ObservationError       a malformed observation (wrong dtype, shape, empty); never retryable
    ├── MissingDependency      an optional package is absent; names the extra that installs it
    ├── ModelError
    │   ├── ModelNotFound      weights not fetched yet; names the fetch command
    │   ├── ModelIntegrityError  weights whose sha256 differs from the registry; refused
    │   └── ModelFetchError    a fetch failed (network, pip); retryable
    └── LicenseError           weights whose license forbids the declared use
"""

from __future__ import annotations


class EmpathicError(Exception):
    """Base of every error empathic raises."""

    retryable: bool = False


class ObservationError(EmpathicError, ValueError):
    """An observation that cannot be processed as given: the caller must fix the input."""


class MissingDependency(EmpathicError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, module: str, extra: str, purpose: str = "") -> None:
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"'{module}' is needed{what} but is not installed: pip install 'empathic[{extra}]'")
        self.module = module
        self.extra = extra


class ModelError(EmpathicError):
    """A problem with model weights."""


class ModelNotFound(ModelError, FileNotFoundError):
    """Weights that have not been fetched; the message names the command that fetches them."""

    def __init__(self, model_id: str, path: object) -> None:
        super().__init__(f"model '{model_id}' is not installed at {path}: run `empathic models fetch {model_id}`")
        self.model_id = model_id


class ModelIntegrityError(ModelError):
    """Weights whose checksum does not match the registry: refused, never used."""


class ModelFetchError(ModelError):
    """Fetching weights failed; trying again may work."""

    retryable = True


class LicenseError(EmpathicError):
    """Weights whose license does not allow the declared use."""

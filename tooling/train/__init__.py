"""Training scripts for the small heads; each needs explicit ``--data`` and ``--out``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def writable_output(out: Path) -> Path:
    """``out``, with its folder made, unless it lies inside the installed package: shipped weights are sha256-pinned."""
    package = Path(str(resources.files("empathic"))).resolve()
    target = out.resolve()
    shipped = [Path(str(resources.files(f"empathic.{p}"))).resolve() for p in ("perception", "policies", "agent")]
    if any(target.is_relative_to(folder) for folder in [package, *shipped]):
        raise SystemExit(f"refusing to write {out}: inside the installed package (shipped, sha256-pinned weights)")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target

"""Opt-in recording of a session's timeline: derived events only (never raw frames or audio), redacted, readable by
its owner only, and deleted after a retention period.

Nothing is written unless a host creates a :class:`TimelineRecorder`; ``empathic run --record DIR`` does so. A
recorder only ever touches files it created: each is named ``empathic-<name>.jsonl`` and listed in the folder's
manifest, ``.empathic-recordings.json``; anything else in the folder is left alone, whatever its age.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from empathic.agent.session.events import Event
from empathic.agent.trust.privacy import redact_record

SKIPPED = frozenset({"response_chunk", "estimate"})
PREFIX = "empathic-"
MANIFEST = ".empathic-recordings.json"
MODE = 0o600


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, readable by its owner only."""
    tmp = path.with_name(f"{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, MODE)
    os.replace(tmp, path)


class TimelineRecorder:
    """A session observer that appends each event as one redacted JSON line to ``folder/empathic-<name>.jsonl``.

    On creation it deletes its own earlier recordings (those in the manifest) not written to for ``retention_days``
    (finite, at least 1). A file of that name it did not create is never appended to: a free name is taken instead.
    """

    def __init__(self, folder: Path | str, name: str, retention_days: float = 7.0) -> None:
        if not (isinstance(retention_days, int | float) and math.isfinite(retention_days) and retention_days >= 1):
            raise ValueError(f"retention_days must be a finite number of days >= 1, got {retention_days!r}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.retention_s = float(retention_days) * 86400.0
        self.purge()
        self.path = self._claim(Path(name).name or "timeline")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, MODE)
        os.fchmod(fd, MODE)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")

    # -- the manifest: the files this recorder may touch ----------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def owned(self) -> list[str]:
        """Names of the recordings listed in the manifest (an unreadable manifest lists none)."""
        try:
            names = json.loads(self.manifest_path.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError, AttributeError):
            return []
        return [n for n in names if isinstance(n, str) and n.startswith(PREFIX) and n == Path(n).name]

    def _save(self, names: list[str]) -> None:
        _write_private(self.manifest_path, json.dumps({"files": sorted(set(names))}, indent=1) + "\n")

    def _claim(self, name: str) -> Path:
        """``empathic-<name>.jsonl`` when it is ours or free, else the first free ``empathic-<name>-<n>.jsonl``."""
        owned = self.owned()
        for n in range(1, 10_000):
            candidate = f"{PREFIX}{name}.jsonl" if n == 1 else f"{PREFIX}{name}-{n}.jsonl"
            path = self.folder / candidate
            if candidate in owned or not path.exists():
                self._save([*owned, candidate])
                return path
        raise FileExistsError(f"no free recording name for {name!r} in {self.folder}")

    def purge(self, now: float | None = None) -> list[Path]:
        """Delete own recordings not written to for the retention period; returns what was deleted."""
        now = time.time() if now is None else now
        kept: list[str] = []
        deleted: list[Path] = []
        for name in self.owned():
            path = self.folder / name
            if path.is_symlink() or not path.is_file():
                continue  # gone, or replaced by something that is not ours: forget it, touch nothing
            if now - path.stat().st_mtime > self.retention_s:
                path.unlink()
                deleted.append(path)
            else:
                kept.append(name)
        if self.manifest_path.exists() or kept:
            self._save(kept)
        return deleted

    def __call__(self, event: Event) -> None:
        if event.type not in SKIPPED:
            self._fh.write(json.dumps(redact_record(event.to_record()), ensure_ascii=False) + "\n")
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()

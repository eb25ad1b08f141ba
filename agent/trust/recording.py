"""Opt-in recording of a session's timeline: derived events only (never raw frames or audio), redacted, and
deleted after a retention period.

Nothing is written unless a host creates a :class:`TimelineRecorder`; ``empathic run --record DIR`` does so.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from empathic.agent.session.events import Event
from empathic.agent.trust.privacy import redact_record

SKIPPED = frozenset({"response_chunk", "estimate"})


class TimelineRecorder:
    """A session observer that appends each event as one redacted JSON line to ``folder/<name>.jsonl``.

    On creation it deletes recordings in ``folder`` older than ``retention_days``.
    """

    def __init__(self, folder: Path | str, name: str, retention_days: float = 7.0) -> None:
        if retention_days <= 0:
            raise ValueError("retention_days must be > 0")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.retention_s = retention_days * 86400.0
        self.purge()
        self.path = self.folder / f"{name}.jsonl"
        self._fh = self.path.open("a", encoding="utf-8")

    def purge(self, now: float | None = None) -> list[Path]:
        """Delete recordings older than the retention period; returns what was deleted."""
        now = time.time() if now is None else now
        old = [p for p in self.folder.glob("*.jsonl") if now - p.stat().st_mtime > self.retention_s]
        for p in old:
            p.unlink()
        return old

    def __call__(self, event: Event) -> None:
        if event.type not in SKIPPED:
            self._fh.write(json.dumps(redact_record(event.to_record()), ensure_ascii=False) + "\n")
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()

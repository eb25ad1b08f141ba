"""Phonemes from the Debian ``espeak-ng`` program, run as a separate process, and piper's phoneme ids.

The engine stays out of this package's licence: espeak-ng (GPL) is a program we call, not a library we link.
Clauses are phonemised one per input line so each comes back on its own line; their punctuation is put back after
them as piper does, since the pauses and intonation a piper voice learnt hang on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Mapping, Sequence

from empathic.perception import MissingDependency

_CLAUSE = re.compile(r"([^,;:.!?]+)([,;:.!?]*)")
BOS, EOS, PAD = "^", "$", "_"


def espeak_binary() -> str:
    """Path of ``espeak-ng``; raises :class:`MissingDependency` naming the package when it is not installed."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise MissingDependency("espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)")
    return found


class Phonemizer:
    """One long-running ``espeak-ng`` process for a voice (starting one per sentence costs 50-100 ms).

    Each request is its clauses, one per line, then a sentinel word whose phonemes mark the end of the answer, so
    a clause that espeak-ng splits or drops cannot shift the next answer. A process that stalls for ``timeout``
    seconds is killed and the request fails; the next one starts a new process.
    """

    SENTINEL = "zugzwang qoph xylyl"
    """A clause no reply says; its phonemes end every answer."""

    def __init__(self, voice: str = "en-us", timeout: float = 5.0) -> None:
        self.voice = voice
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._marker = ""
        self._lock = threading.Lock()

    def __call__(self, sentence: str) -> str:
        """IPA phonemes of one sentence, words separated by spaces, clause punctuation kept (NFD, as piper)."""
        clauses = [(" ".join(c.split()), p[:1]) for c, p in _CLAUSE.findall(sentence) if c.strip()]
        if not clauses:
            return ""
        with self._lock:
            lines = self._ask([c for c, _ in clauses])
        if len(lines) == len(clauses):
            text = " ".join(ph + punct for ph, (_, punct) in zip(lines, clauses, strict=True))
        else:  # espeak split a clause its own way: keep its phonemes, lose the inner punctuation
            text = " ".join(lines) + clauses[-1][1]
        return unicodedata.normalize("NFD", text)

    def _ask(self, lines: list[str]) -> list[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [espeak_binary(), "-q", "--ipa", "-v", self.voice],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
            self._marker = ""  # the first answer is the sentinel's own phonemes: the marker from then on
            self._marker = self._roundtrip([])[-1]
        return self._roundtrip(lines)[:-1]

    def _roundtrip(self, lines: list[str]) -> list[str]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        watchdog = threading.Timer(self.timeout, proc.kill)
        watchdog.start()
        try:
            proc.stdin.write("\n".join([*lines, self.SENTINEL]) + "\n")
            proc.stdin.flush()
            out: list[str] = []
            while True:
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError("espeak-ng stopped answering")
                if line.strip():
                    out.append(line.strip())
                    if not self._marker or out[-1] == self._marker:
                        return out
        except (OSError, RuntimeError):
            proc.kill()
            self._proc = None
            raise
        finally:
            watchdog.cancel()

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None


def phoneme_ids(phonemes: str, id_map: Mapping[str, Sequence[int]]) -> list[int]:
    """Piper's layout: BOS, then every phoneme followed by PAD, then EOS; unknown symbols are skipped."""
    pad = list(id_map[PAD])
    ids = [*id_map[BOS], *pad]
    for symbol in phonemes:
        if symbol in id_map and symbol not in (BOS, EOS, PAD):
            ids += [*id_map[symbol], *pad]
    return [*ids, *id_map[EOS]]

"""Phonemes from the Debian ``espeak-ng`` program, run as a separate process, and piper's phoneme ids.

The engine stays out of this package's licence: espeak-ng (GPL) is a program we call, not a library we link.
Clauses are phonemised one per input line so each comes back on its own line; their punctuation is put back after
them as piper does, since the pauses and intonation a piper voice learnt hang on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
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


def phonemize(sentence: str, voice: str = "en-us") -> str:
    """IPA phonemes of one sentence, words separated by spaces, clause punctuation kept."""
    clauses = [(c.strip(), p[:1]) for c, p in _CLAUSE.findall(sentence) if c.strip()]
    if not clauses:
        return ""
    proc = subprocess.run(
        [espeak_binary(), "-q", "--ipa", "-v", voice],
        input="\n".join(c for c, _ in clauses),
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"espeak-ng failed: {proc.stderr.strip()[:200]}")
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    if len(lines) == len(clauses):
        text = " ".join(ph + punct for ph, (_, punct) in zip(lines, clauses, strict=True))
    else:  # espeak split a clause its own way: keep its phonemes, lose the inner punctuation
        text = " ".join(lines) + clauses[-1][1]
    return unicodedata.normalize("NFD", text)


def phoneme_ids(phonemes: str, id_map: Mapping[str, Sequence[int]]) -> list[int]:
    """Piper's layout: BOS, then every phoneme followed by PAD, then EOS; unknown symbols are skipped."""
    pad = list(id_map[PAD])
    ids = [*id_map[BOS], *pad]
    for symbol in phonemes:
        if symbol in id_map and symbol not in (BOS, EOS, PAD):
            ids += [*id_map[symbol], *pad]
    return [*ids, *id_map[EOS]]

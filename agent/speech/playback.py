"""What the listener has heard of a reply: the audio handed out, when each piece plays on a clock, and which
words were over when playback stopped.

Audio is handed out in chunks of at most 100 ms; a chunk plays once the ones before it have (a gap while the next
sentence is still being synthesised is silence). ``stop`` refuses further chunks at once, so what the sink still
holds is at most what was handed out ahead of the clock. Word times inside a sentence are spread in proportion
to their letters (the voice gives no alignment): a word counts as heard once its estimated end has played.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from empathic.agent.speech.speaker import SpeechSegment

_WORD = re.compile(r"\S+")


@dataclass(slots=True)
class _Sentence:
    text: str
    speech_samples: int
    word_ends: list[tuple[int, int]]  # (end character in text, end sample)
    chunks: list[tuple[int, int, float]] = field(default_factory=list)  # (first sample, samples, clock start)


def _word_ends(text: str, speech_samples: int) -> list[tuple[int, int]]:
    words = list(_WORD.finditer(text))
    weights = np.array([max(1, sum(ch.isalnum() for ch in w.group())) for w in words], dtype=float)
    ends = np.cumsum(weights) / max(weights.sum(), 1.0) * speech_samples
    return [(w.end(), int(e)) for w, e in zip(words, ends, strict=True)]


class Playback:
    """One reply being played, on ``clock`` (seconds: media time in a replay, wall time live)."""

    def __init__(self, sample_rate: int, clock: Callable[[], float]) -> None:
        self.sample_rate = sample_rate
        self.clock = clock
        self.started_at: float | None = None
        self.end = clock()
        """Clock time at which everything handed out so far has played."""
        self.stopped_at: float | None = None
        self.complete = False
        """True once the whole reply was handed out."""
        self._sentences: list[_Sentence] = []
        self._audio: list[tuple[float, np.ndarray]] = []

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def hand_out(self, segment: SpeechSegment, first: int, samples: np.ndarray) -> float | None:
        """Schedule one chunk of ``segment`` (starting at its sample ``first``); returns the clock time it starts
        playing, or None once stopped (the chunk is not played)."""
        if self.stopped:
            return None
        if segment.index >= len(self._sentences):
            self._sentences.append(
                _Sentence(segment.text, segment.speech_samples, _word_ends(segment.text, segment.speech_samples))
            )
        at = max(self.clock(), self.end)
        if self.started_at is None:
            self.started_at = at
        self._sentences[segment.index].chunks.append((first, samples.size, at))
        self._audio.append((at, samples))
        self.end = at + samples.size / self.sample_rate
        return at

    def stop(self, at: float | None = None) -> str:
        """Stop at clock time ``at`` (now): nothing more is handed out. Returns the text heard."""
        if not self.stopped:
            self.stopped_at = self.clock() if at is None else min(at, self.end)
        return self.heard()

    def playing(self, at: float | None = None) -> bool:
        t = self.clock() if at is None else at
        return self.started_at is not None and not self.stopped and (not self.complete or t < self.end)

    def played_s(self, at: float | None = None) -> float:
        """Seconds of reply audio played by ``at`` (now; the stop time once stopped)."""
        t = self._at(at)
        return sum(float(np.clip(t - start, 0.0, n / self.sample_rate)) for _, n, start in self._chunks() if start < t)

    def heard(self, at: float | None = None) -> str:
        """The text heard by ``at``: whole sentences, then the words of the sentence playing whose end has played."""
        t = self._at(at)
        said = []
        for s in self._sentences:
            played = sum(int(np.clip((t - start) * self.sample_rate, 0, n)) for _, n, start in s.chunks)
            cut = max((char for char, end in s.word_ends if end <= played), default=0)
            if cut:
                said.append(s.text[:cut])
            if cut < len(s.text.rstrip()):
                break
        return " ".join(said)

    def reference(self, t0: float, t1: float) -> np.ndarray:
        """The audio playing between clock times ``t0`` and ``t1`` (silence where none), for echo cancellation."""
        out = np.zeros(max(0, round((t1 - t0) * self.sample_rate)), dtype=np.float32)
        stop = self.stopped_at if self.stopped_at is not None else self.end
        for start, samples in self._audio:
            lo = round((start - t0) * self.sample_rate)
            hi = min(lo + samples.size, out.size, round((stop - t0) * self.sample_rate))
            if hi > max(lo, 0):
                out[max(lo, 0) : hi] = samples[max(0, -lo) : hi - lo]
        return out

    def _at(self, at: float | None) -> float:
        """``at`` (now when None), never past the stop."""
        if self.stopped_at is None:
            return self.clock() if at is None else at
        return self.stopped_at if at is None else min(at, self.stopped_at)

    def _chunks(self) -> list[tuple[int, int, float]]:
        return [c for s in self._sentences for c in s.chunks]

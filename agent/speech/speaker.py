"""The text-to-speech seam: a :class:`Speaker` turns one sentence into audio; :meth:`Speaker.stream` speaks a
reply sentence by sentence, so the first sentence is out while the rest is still being written.

Every speaker gives float32 mono audio at its own ``sample_rate``. The tone's gain and the pause between sentences
are applied here, once for all speakers; rate, pitch and variation are the engine's job.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from empathic.agent.speech.prosody import VoiceProsody

_CLAUSE_END = re.compile(r"[,;:](?=\s)")
_TERMINATOR = r"(?<!\b[A-Z])(?<!\b(?:Mr|Ms|Dr|St|vs))(?<!\be\.g)(?<!\bi\.e)[.!?]+[\"')\]]*"
_END = re.compile(_TERMINATOR + r"(?=\s)|\n+")
_END_OR_CHUNK_END = re.compile(_TERMINATOR + r"(?=\s|\Z)|\n+")


class SentenceSplitter:
    """Cuts streamed text into sentences as soon as each one ends (a terminator followed by white space).

    The reply's first piece may end at a clause (a comma, semicolon or colon after at least ``first_clause_words``
    words): the first audio comes out sooner, and the voice pauses there anyway. With ``whole_sentences`` every
    chunk ends where a sentence may end (the LLM responder releases checked sentences one by one), so a terminator
    at a chunk's end ends the sentence at once instead of waiting for the next chunk's space, which would hold each
    sentence back until the next one has been written and checked.
    """

    def __init__(self, first_clause_words: int = 3, whole_sentences: bool = False) -> None:
        self._buf = ""
        self._first = True
        self.first_clause_words = first_clause_words
        self._end = _END_OR_CHUNK_END if whole_sentences else _END

    def feed(self, text: str) -> list[str]:
        self._buf += text
        out = []
        while m := self._next_end():
            sentence, self._buf = self._buf[: m.end()].strip(), self._buf[m.end() :]
            if sentence:
                out.append(sentence)
                self._first = False
        return out

    def _next_end(self) -> re.Match[str] | None:
        end = self._end.search(self._buf)
        if self._first and self.first_clause_words:
            clause = _CLAUSE_END.search(self._buf)
            early = clause is not None and (end is None or clause.start() < end.start())
            if early and len(self._buf[: clause.start()].split()) >= self.first_clause_words:
                return clause
        return end

    def flush(self) -> list[str]:
        rest, self._buf = self._buf.strip(), ""
        return [rest] if rest else []


def sentences(text: str | Iterable[str]) -> Iterator[str]:
    """The sentences of ``text`` (a string, or streamed chunks), each as soon as it is complete."""
    splitter = SentenceSplitter()
    for chunk in [text] if isinstance(text, str) else text:
        yield from splitter.feed(chunk)
    yield from splitter.flush()


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """One spoken sentence: ``speech_samples`` of speech followed by the pause before the next sentence."""

    audio: np.ndarray
    sample_rate: int
    text: str
    index: int
    speech_samples: int

    @property
    def duration_s(self) -> float:
        return self.audio.size / self.sample_rate

    def chunks(self, max_s: float = 0.1) -> Iterator[tuple[int, np.ndarray]]:
        """(first sample, samples) pieces of at most ``max_s`` seconds, so playback can stop between them."""
        step = max(1, int(max_s * self.sample_rate))
        for start in range(0, self.audio.size, step):
            yield start, self.audio[start : start + step]


class Speaker(ABC):
    """A voice. Subclasses implement :meth:`synthesize` (one sentence, rate/pitch/variation applied)."""

    name: str = "speaker"
    sample_rate: int = 16000

    @abstractmethod
    def synthesize(self, sentence: str, prosody: VoiceProsody) -> np.ndarray:
        """Float32 mono speech of one sentence at ``sample_rate``."""

    def render(self, sentence: str, prosody: VoiceProsody, index: int = 0) -> SpeechSegment:
        """One sentence with the tone's gain and the pause after it."""
        speech = np.asarray(self.synthesize(sentence, prosody), dtype=np.float32)
        speech = np.clip(speech * 10 ** (prosody.gain_db / 20), -1.0, 1.0).astype(np.float32)
        pause = np.zeros(round(prosody.pause_s * self.sample_rate), dtype=np.float32)
        return SpeechSegment(np.concatenate([speech, pause]), self.sample_rate, sentence, index, speech.size)

    def stream(self, text: str | Iterable[str], prosody: VoiceProsody) -> Iterator[SpeechSegment]:
        """Speak ``text`` (a string or a responder's streamed chunks) sentence by sentence."""
        for index, sentence in enumerate(sentences(text)):
            yield self.render(sentence, prosody, index)

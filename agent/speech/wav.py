"""Writing spoken replies to WAV files (``empathic run --speak DIR``)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from empathic.agent.session.events import Event, SpeechAudio, SpeechStopped
from empathic.perception.voice.audio import pcm16


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit mono PCM."""
    pcm = pcm16(audio)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())


class ReplyWavWriter:
    """A session subscriber that writes each spoken reply's audio to ``folder/reply-NNN.wav`` when it stops."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written: list[Path] = []
        self._pieces: list[np.ndarray] = []
        self._rate = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, SpeechAudio):
            self._pieces.append(event.audio)
            self._rate = event.sample_rate
        elif isinstance(event, SpeechStopped) and self._pieces:
            path = self.folder / f"reply-{len(self.written) + 1:03d}.wav"
            write_wav(path, np.concatenate(self._pieces), self._rate)
            self.written.append(path)
            self._pieces = []

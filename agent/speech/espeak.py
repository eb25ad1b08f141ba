"""The last-resort voice: the ``espeak-ng`` program itself (robotic, but everywhere and instant)."""

from __future__ import annotations

import io
import subprocess
import wave

import numpy as np
from empathic.agent.speech.phonemes import espeak_binary
from empathic.agent.speech.prosody import VoiceProsody
from empathic.agent.speech.speaker import Speaker

WPM = 175
"""espeak-ng's default speaking rate, words per minute."""
PITCH_PER_SEMITONE = 4.0
"""espeak-ng's pitch runs 0-99 (default 50); about four steps per semitone."""


class EspeakSpeaker(Speaker):
    """espeak-ng with rate (-s) and pitch (-p) from the prosody; it has no control for variation."""

    def __init__(self, voice: str = "en-us") -> None:
        self.binary = espeak_binary()
        self.voice = voice
        self.name = f"espeak-ng:{voice}"
        self.sample_rate = 22050

    def synthesize(self, sentence: str, prosody: VoiceProsody) -> np.ndarray:
        pitch = int(np.clip(50 + PITCH_PER_SEMITONE * prosody.pitch_st, 0, 99))
        cmd = [self.binary, "-v", self.voice, "-s", str(int(WPM * prosody.rate)), "-p", str(pitch), "-z"]
        cmd += ["--stdout", sentence]
        proc = subprocess.run(cmd, capture_output=True, timeout=10, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
        with wave.open(io.BytesIO(proc.stdout)) as w:
            shape = (w.getframerate(), w.getsampwidth(), w.getnchannels())
            raw = w.readframes(w.getnframes())
        if shape != (self.sample_rate, 2, 1):
            raise RuntimeError(f"espeak-ng wrote (rate, width, channels) {shape}, expected ({self.sample_rate}, 2, 1)")
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0

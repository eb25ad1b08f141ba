"""Utterance segmentation: speech frames from the VAD grouped into utterances that end with the user's turn.

Without a turn rule an utterance ends once ``trailing_silence_s`` of non-speech follows it: shorter means snappier
replies and more cut-off sentences, longer the reverse. With a :class:`TurnEndRule` the end-of-turn model decides
within the pause (short when the turn sounds complete, longer when not). ``pre_roll_s`` of audio before the first
speech frame is kept because VADs fire a little late and Whisper misses clipped onsets. With a
:class:`BargeInDetector` every frame is also judged against what the agent is playing: its own voice is silence
here, and speech shorter than a barge-in that began over the playback (a backchannel) is no utterance.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from empathic.perception.voice.audio import RATE
from empathic.perception.voice.bargein import BargeInDetector
from empathic.perception.voice.turn import TurnEndRule
from empathic.perception.voice.vad import Vad
from pydantic import BaseModel, ConfigDict, Field


class SegmenterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="speech probability that starts or continues speech")
    trailing_silence_s: float = Field(
        0.5, gt=0.0, description="non-speech that ends an utterance (the turn end) without a turn rule"
    )
    min_speech_s: float = Field(0.25, ge=0.0, description="shorter bursts (clicks, coughs) are dropped")
    pre_roll_s: float = Field(0.2, ge=0.0, description="audio kept before the first speech frame")
    tail_s: float = Field(0.15, ge=0.0, description="audio kept after the last speech frame")
    max_utterance_s: float = Field(28.0, gt=1.0, le=29.0, description="longer speech is cut (Whisper's window is 30 s)")


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """One utterance: media times of its first and last speech frame, its 16 kHz audio (with pre-roll/tail), and
    the turn model's probability that it was complete (None when silence alone ended it)."""

    start: float
    end: float
    audio: np.ndarray
    complete: float | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


class Segmenter:
    """Streaming segmentation; ``push`` takes consecutive 16 kHz samples and returns utterances that ended."""

    def __init__(
        self,
        vad: Vad,
        config: SegmenterConfig | None = None,
        *,
        turn: TurnEndRule | None = None,
        barge_in: BargeInDetector | None = None,
    ) -> None:
        self.vad = vad
        self.config = config or SegmenterConfig()
        self.turn = turn
        self.barge_in = barge_in
        self._frame_s = vad.frame_size / RATE
        self.reset(0.0)

    def reset(self, t: float) -> None:
        """Start a new stream whose next sample is at media time ``t``."""
        self.vad.reset()
        self._t = t  # media time of the first sample in self._pending
        self._pending = np.zeros(0, dtype=np.float32)
        pre = max(1, round(self.config.pre_roll_s / self._frame_s))
        self._pre: deque[np.ndarray] = deque(maxlen=pre)
        self._frames: list[np.ndarray] = []
        self._start = 0.0
        self._last_speech = 0.0
        self._speech_s = 0.0
        self._silence = 0.0
        self._over_playback = False

    @property
    def in_speech(self) -> bool:
        return bool(self._frames)

    def push(self, samples: np.ndarray, t: float | None = None) -> list[Segment]:
        """Feed samples; a ``t`` far from where the stream was (a gap or a seek) restarts it there."""
        if t is not None and abs(t - (self._t + self._pending.size / RATE)) > 0.25:
            out = self.flush()
            self.reset(t)
            return out + self.push(samples)
        buf = np.concatenate([self._pending, samples.astype(np.float32)])
        n = self.vad.frame_size
        out: list[Segment] = []
        used = 0
        while buf.size - used >= n:
            frame = buf[used : used + n]
            seg = self._step(frame, self._t + used / RATE)
            if seg is not None:
                out.append(seg)
            used += n
        self._pending = buf[used:]
        self._t += used / RATE
        return out

    def _step(self, frame: np.ndarray, t: float) -> Segment | None:
        cfg = self.config
        p = self.vad.probability(frame)
        if self.barge_in is not None:
            over_playback = self.barge_in.playing(t)
            p = self.barge_in.hear(frame, t, p)
        if not self._frames:
            if p >= cfg.threshold:
                self._start = t - len(self._pre) * self._frame_s
                self._frames = [*self._pre, frame]
                self._pre.clear()
                self._speech_s, self._silence, self._last_speech = self._frame_s, 0.0, t + self._frame_s
                self._over_playback = self.barge_in is not None and over_playback
                if self.turn is not None:
                    self.turn.speech()
            else:
                self._pre.append(frame)
            return None
        self._frames.append(frame)
        if p >= cfg.threshold - 0.15:  # hysteresis: a dip inside a word does not count as silence
            self._speech_s += self._frame_s + self._silence
            if self._silence and self.turn is not None:
                self.turn.speech()
            self._silence = 0.0
            self._last_speech = t + self._frame_s
        else:
            self._silence += self._frame_s
        if self._turn_ended() or t + self._frame_s - self._start >= cfg.max_utterance_s:
            return self._close()
        return None

    def _turn_ended(self) -> bool:
        if not self._silence:
            return False
        if self.turn is None:
            return self._silence >= self.config.trailing_silence_s
        return self.turn.ended(self._silence, lambda: np.concatenate(self._frames))

    def flush(self) -> list[Segment]:
        """End of stream: the open utterance, if it had enough speech."""
        seg = self._close() if self._frames else None
        return [seg] if seg is not None else []

    def _close(self) -> Segment | None:
        frames, self._frames = self._frames, []
        if self._speech_s < self.config.min_speech_s:
            return None
        if self._over_playback and self.barge_in is not None and self._speech_s < self.barge_in.config.min_speech_s:
            return None  # a backchannel while the agent spoke: heard, not a turn
        audio = np.concatenate(frames)
        keep = round((self._last_speech - self._start + self.config.tail_s) * RATE)
        complete = self.turn.probability if self.turn is not None else None
        return Segment(self._start, self._last_speech, audio[: max(1, keep)], complete)


def speech_span(audio: np.ndarray, vad: Vad, config: SegmenterConfig | None = None) -> np.ndarray | None:
    """A whole clip cut to its speech, from the first utterance's start to the last one's end; None if no speech.

    Used for one-clip-one-utterance work (training, evaluation), so the emotion head sees the same trimming as live.
    """
    seg = Segmenter(vad, config)
    parts = seg.push(audio, 0.0) + seg.flush()
    if not parts:
        return None
    cfg = seg.config
    start = max(0, round(parts[0].start * RATE))
    end = min(audio.size, round((parts[-1].end + cfg.tail_s) * RATE))
    return audio[start:end]

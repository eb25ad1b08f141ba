"""Speaking a session's replies: sentences are synthesised as the reply's text arrives and handed out in chunks.

In a replay (``realtime`` off) the whole reply is synthesised at once and scheduled on media time from the turn's
end, so a replay gives the same timeline every time. Live (``realtime`` on), chunks are handed out on ``clock`` no
more than ``lead_s`` ahead of playback, so a stop takes effect within ``chunk_s + lead_s``; the next sentence is
synthesised while the one before plays.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np
from empathic.agent.session.events import ComponentFailed, Event, SpeechAudio, SpeechStarted, SpeechStopped
from empathic.agent.speech.playback import Playback
from empathic.agent.speech.prosody import VoiceProsody
from empathic.agent.speech.speaker import SentenceSplitter, Speaker, SpeechSegment

Emit = Callable[[Event], None]


class SpeechOutput:
    """The voice of one session; ``playback`` is the reply now playing (None when quiet)."""

    def __init__(
        self,
        speaker: Speaker,
        *,
        realtime: bool = False,
        clock: Callable[[], float] | None = None,
        chunk_s: float = 0.1,
        lead_s: float = 0.1,
    ) -> None:
        if realtime and clock is None:
            raise ValueError("realtime speech needs the clock playback runs on")
        if not 0 < chunk_s <= 0.1:
            raise ValueError("chunk_s must be in (0, 0.1] so a stop takes effect quickly")
        self.speaker = speaker
        self.realtime = realtime
        self.clock = clock
        self.chunk_s = chunk_s
        self.lead_s = lead_s
        self.playback: Playback | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self, clock: Callable[[], float]) -> Playback:
        """A new reply's playback, on this output's clock or else ``clock`` (the session's media time)."""
        self.playback = Playback(self.speaker.sample_rate, self.clock or clock)
        return self.playback

    async def speak(
        self,
        playback: Playback,
        text: AsyncIterator[str],
        prosody: VoiceProsody,
        emit: Emit,
        whole_sentences: bool = False,
    ) -> None:
        """Speak ``text`` as it streams in; live, also wait for the end of playback and emit the stop.
        ``whole_sentences``: each chunk of ``text`` ends where a sentence may end (see :class:`SentenceSplitter`).

        A voice that fails is reported as ``ComponentFailed`` and the reply ends where it got to.
        """
        segments: asyncio.Queue[SpeechSegment | Exception | None] = asyncio.Queue()
        splitter = SentenceSplitter(whole_sentences=whole_sentences)
        producer = asyncio.create_task(self._synthesise(playback, text, prosody, splitter, segments))
        started = False
        try:
            while (segment := await segments.get()) is not None:
                if isinstance(segment, Exception):
                    error = f"{type(segment).__name__}: {segment}"
                    emit(ComponentFailed(playback.end, f"speech.{self.speaker.name}", error, True))
                    break
                for first, samples in segment.chunks(self.chunk_s):
                    if self.realtime:
                        await asyncio.sleep(max(0.0, playback.end - self.lead_s - playback.clock()))
                    at = playback.hand_out(segment, first, samples)
                    if at is None:
                        return
                    if not started:
                        started = True
                        emit(SpeechStarted(at, self.speaker.name))
                    emit(SpeechAudio(at, samples, segment.sample_rate, segment.index))
            playback.complete = True
            if self.realtime:
                await asyncio.sleep(max(0.0, playback.end - playback.clock()))
                self.end(playback, emit)
        finally:
            producer.cancel()

    async def _synthesise(
        self,
        playback: Playback,
        text: AsyncIterator[str],
        prosody: VoiceProsody,
        splitter: SentenceSplitter,
        out: asyncio.Queue,
    ) -> None:
        index = 0
        try:  # a failure goes to the consumer, which reports it
            async for chunk in text:
                for sentence in splitter.feed(chunk):
                    if playback.stopped:
                        return
                    out.put_nowait(await asyncio.to_thread(self.speaker.render, sentence, prosody, index))
                    index += 1
            for sentence in splitter.flush():
                if not playback.stopped:
                    out.put_nowait(await asyncio.to_thread(self.speaker.render, sentence, prosody, index))
        except Exception as exc:
            out.put_nowait(exc)
        finally:
            out.put_nowait(None)

    def end(self, playback: Playback, emit: Emit, at: float | None = None, interrupted: bool = False) -> bool:
        """Emit the stop of ``playback`` once (``interrupted``: stop it at ``at`` first); False if already ended."""
        if playback is not self.playback:
            return False
        self.playback = None
        if interrupted:
            playback.stop(at)
            if self.task is not None and self.task is not asyncio.current_task():
                self.task.cancel()
            t = playback.stopped_at
        else:
            t = playback.end
        assert t is not None
        emit(SpeechStopped(t, playback.heard(t), round(playback.played_s(t), 3), interrupted))
        return True

    def reference(self, t0: float, t1: float) -> np.ndarray:
        """The agent's own audio playing between ``t0`` and ``t1`` (at the speaker's rate), for echo cancelling."""
        if self.playback is None:
            return np.zeros(max(0, round((t1 - t0) * self.speaker.sample_rate)), dtype=np.float32)
        return self.playback.reference(t0, t1)

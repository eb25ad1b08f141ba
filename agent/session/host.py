"""One session held by a transport: what the HTTP API, the web demo, the LangChain plugin and ``empathic run`` share.

A :class:`HostedSession` wraps an :class:`AgentSession` with what every transport needs around it: one observation
at a time per session (browsers and HTTP clients send concurrently), a media clock (seconds since the
conversation began, unless the caller gives media times), consent by channel, the event types the transport wants,
JSON-ready records, latest-only camera frames, and :meth:`close` to drop everything. Each transport is a thin
adapter on it, and a new one (WebSocket, WebRTC, a pipecat or LiveKit bridge, a Ray replica) is one file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from typing import Any, get_args

from empathic.agent.session.events import DirectiveChosen, EmotionUpdated, Event
from empathic.agent.session.loop import AgentSession
from empathic.agent.trust.consent import CHANNELS, Channel
from empathic.perception import EmpathicError, Observation, VideoFrame
from langchain_core.runnables import RunnableConfig

EVENT_TYPES: frozenset[str] = frozenset(e.type for e in get_args(Event))


class SessionClosed(EmpathicError, LookupError):
    """The session was closed (deleted or expired): its data is gone and it takes no more input."""


class MediaClock:
    """Media time of a live conversation: seconds since it began, read from ``clock`` (monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()

    def __call__(self) -> float:
        return max(0.0, self._clock() - self._start)


class HostedSession:
    """An :class:`AgentSession` as a transport holds it.

    ``now`` gives media time when the caller has none (default: a :class:`MediaClock` started now); ``events``
    names the event types this transport passes on (None: all of them).
    """

    def __init__(
        self,
        session: AgentSession,
        *,
        now: Callable[[], float] | None = None,
        events: Iterable[str] | None = None,
    ) -> None:
        wanted = None if events is None else frozenset(events)
        if wanted is not None and wanted - EVENT_TYPES:
            raise ValueError(f"unknown event types {sorted(wanted - EVENT_TYPES)}; known: {sorted(EVENT_TYPES)}")
        self._session: AgentSession | None = session
        self.now = now or MediaClock()
        self.events = wanted
        self.dropped_frames = 0
        self._lock = asyncio.Lock()
        self._frame_in_flight = False

    @property
    def session(self) -> AgentSession:
        if self._session is None:
            raise SessionClosed("this session was closed; its data is gone")
        return self._session

    def media_time(self, t: float | None = None) -> float:
        """``t`` when the caller gave a media time, else the media clock's."""
        return self.now() if t is None else t

    # -- input -----------------------------------------------------------------------------------------------
    async def process(self, obs: Observation, config: RunnableConfig | None = None) -> list[Event]:
        """Process one observation once the ones before it are done; returns the wanted events it caused."""
        async with self._lock:
            events = await self.session.process(obs, config)
        return self.wanted(events)

    async def offer_frame(self, frame: VideoFrame) -> list[Event] | None:
        """Latest-only for pushed camera frames: while an older frame is still being read, ``frame`` is dropped
        (counted in ``dropped_frames``) and None returned, so when processing falls behind lag never builds up.

        Pulled live sources get the same from :func:`empathic.perception.sources.latest_only`.
        """
        if self._frame_in_flight:
            self.dropped_frames += 1
            return None
        self._frame_in_flight = True
        try:
            return await self.process(frame)
        finally:
            self._frame_in_flight = False

    async def run(
        self, source: AsyncIterable[Observation], config: RunnableConfig | None = None
    ) -> AsyncIterator[Event]:
        """Feed a whole source (a replay or a live feed) in order, yielding the wanted events, then flush speech.

        Each observation takes the lock on its own, so consent changes and other input interleave with a live feed.
        """
        async for obs in source:
            for event in await self.process(obs, config):
                yield event
        async with self._lock:
            events = await self.session.finish(config)
        for event in self.wanted(events):
            yield event

    def interrupt(self, t: float | None = None) -> list[Event]:
        """Barge-in: stop the reply playing at ``t`` (now when None) at once, without waiting for the observation in
        progress; the history keeps only what was heard. Returns the wanted events."""
        return self.wanted(self.session.interrupt(t))

    # -- consent ---------------------------------------------------------------------------------------------
    async def set_consent(self, changes: Mapping[Channel, bool], t: float | None = None) -> None:
        """Grant or revoke channels at media time ``t`` (now when None); revoking forgets what came from them."""
        at = self.media_time(t)
        async with self._lock:
            for channel, granted in changes.items():
                self.session.set_consent(channel, granted, at)

    def consent_view(self) -> dict[Channel, bool]:
        """Every channel and whether it is granted."""
        return {c: self.session.consent.granted(c) for c in CHANNELS}

    # -- output ----------------------------------------------------------------------------------------------
    def wanted(self, events: list[Event]) -> list[Event]:
        """The events of the types this transport passes on."""
        return events if self.events is None else [e for e in events if e.type in self.events]

    @staticmethod
    def records(events: Iterable[Event]) -> list[dict[str, Any]]:
        """JSON-ready dicts, as in the ``empathic run`` timeline."""
        return [e.to_record() for e in events]

    def view(self) -> dict[str, Any]:
        """Where the conversation stands: profile, consent, current state and directive records, user turns."""
        s = self.session
        return {
            "profile": s.policy.name,
            "consent": self.consent_view(),
            "state": EmotionUpdated(s.state.t, s.state).to_record(),
            "directive": None if s.directive is None else DirectiveChosen(s.state.t, s.directive).to_record(),
            "user_turns": s.dialogue.user_turns,
            "speaking": s.speaking,
            "compliance_notice": s.compliance.notice,
        }

    def close(self) -> None:
        """Drop the session and everything derived from it (a reply playing stops); later calls raise
        :class:`SessionClosed`."""
        if self._session is not None:
            self._session.interrupt()
        self._session = None

    @property
    def closed(self) -> bool:
        return self._session is None

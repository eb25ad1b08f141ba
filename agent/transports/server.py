"""The HTTP API for bots in any language: sessions, observations in, emotion state and tone directive out.

FastAPI documents it at ``/docs`` (OpenAPI at ``/openapi.json``). Every route but ``/v1/health`` needs
``Authorization: Bearer <token>``. Uploads are checked by content and size, requests are rate-limited per session,
idle sessions expire, and nothing is logged but method, route, status and timing: no text, media or secrets.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from empathic.agent.session.build import build_session
from empathic.agent.session.host import EVENT_TYPES, HostedSession, MediaClock, SessionClosed
from empathic.agent.session.settings import Settings
from empathic.agent.trust.compliance import ComplianceSettings
from empathic.agent.trust.consent import Channel, ConsentLedger
from empathic.perception import AudioChunk, EmpathicError, Observation, ObservationError, TextTurn, VideoFrame
from empathic.perception.media import decode_audio, decode_image
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("empathic.server")


class ServerSettings(BaseModel):
    """Limits and secrets of one server."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(default_factory=lambda: secrets.token_urlsafe(24), min_length=16)
    max_sessions: int = Field(64, ge=1)
    session_ttl_s: float = Field(900.0, gt=0, description="idle sessions are deleted after this long")
    max_text_chars: int = Field(4000, ge=1)
    max_image_bytes: int = Field(4 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(1920 * 1080, ge=1)
    max_audio_bytes: int = Field(8 * 1024 * 1024, ge=1)
    max_audio_seconds: float = Field(30.0, gt=0)
    rate_per_s: float = Field(20.0, gt=0, description="sustained requests per second per session")
    burst: int = Field(40, ge=1)
    session: Settings = Field(default_factory=Settings, description="defaults for new sessions")


# -- request and response bodies ---------------------------------------------------------------------------------
class ConsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera: bool = False
    microphone: bool = False
    text: bool = False


class CreateSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str = Field("customer_service", max_length=200)
    consent: ConsentBody = Field(default_factory=ConsentBody)
    compliance: ComplianceSettings | None = None


class ConsentChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    granted: bool


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    t: float | None = Field(None, ge=0, description="media time in seconds; server time since creation if absent")
    speaker: str = Field("user", pattern="^(user|agent)$")


class SessionView(BaseModel):
    session_id: str
    profile: str
    consent: dict[str, bool]
    state: dict[str, Any]
    directive: dict[str, Any] | None
    user_turns: int
    compliance_notice: str = ""


class ObservationResult(BaseModel):
    events: list[dict[str, Any]]
    state: dict[str, Any]
    directive: dict[str, Any] | None


# -- sessions ----------------------------------------------------------------------------------------------------
@dataclass
class _Bucket:
    """Token bucket: ``rate`` per second, at most ``burst`` saved up."""

    rate: float
    burst: int
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """0 when a request may go; else the seconds to wait."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Hosted:
    """A session with what the server adds: when it was last used, and its rate limit."""

    host: HostedSession
    used: float
    bucket: _Bucket


# streamed chunks are not sent: a response carries the whole reply
SENT_EVENTS = EVENT_TYPES - {"response_chunk"}


class SessionStore:
    """Sessions in memory only; expired ones are closed and dropped on every access."""

    def __init__(self, settings: ServerSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self.sessions: dict[str, Hosted] = {}

    def expire(self) -> None:
        now = self.clock()
        for sid in [s for s, h in self.sessions.items() if now - h.used > self.settings.session_ttl_s]:
            self.delete(sid)

    def create(self, body: CreateSession) -> tuple[str, Hosted]:
        self.expire()
        if len(self.sessions) >= self.settings.max_sessions:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many open sessions; delete one first")
        base = self.settings.session
        settings = base.model_copy(update={"profile": body.profile, "compliance": body.compliance or base.compliance})
        consent = ConsentLedger([c for c, ok in body.consent.model_dump().items() if ok])
        try:
            session = build_session(settings, consent=consent)
        except (ValueError, EmpathicError) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        now = self.clock()
        sid = uuid.uuid4().hex
        s = self.settings
        host = HostedSession(session, now=MediaClock(self.clock), events=SENT_EVENTS)
        self.sessions[sid] = Hosted(host, now, _Bucket(s.rate_per_s, s.burst, float(s.burst), now))
        return sid, self.sessions[sid]

    def get(self, sid: str) -> Hosted:
        self.expire()
        hosted = self.sessions.get(sid)
        if hosted is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such session (deleted or expired)")
        now = self.clock()
        wait = hosted.bucket.take(now)
        if wait:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS, "rate limit", headers={"Retry-After": f"{max(1, round(wait))}"}
            )
        hosted.used = now
        return hosted

    def delete(self, sid: str) -> None:
        hosted = self.sessions.pop(sid, None)
        if hosted is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such session")
        hosted.host.close()


def create_app(settings: ServerSettings | None = None, clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """The API as a FastAPI app; ``clock`` drives expiry, rate limits and default media times."""
    settings = settings or ServerSettings()
    store = SessionStore(settings, clock)
    app = FastAPI(
        title="empathic",
        version="1",
        description="Emotion state and tone directive for conversational agents. Bearer token required.",
    )
    app.state.store = store

    def authorised(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), settings.token.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )

    auth = [Depends(authorised)]

    @app.middleware("http")
    async def access_log(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        log.info(
            "%s %s %d %.1fms",
            request.method,
            getattr(route, "path", "?"),
            response.status_code,
            1000 * (time.perf_counter() - start),
        )
        return response

    @app.exception_handler(SessionClosed)
    async def closed(request: Request, exc: SessionClosed) -> JSONResponse:
        """A session deleted or expired while one of its requests waited for its turn."""
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    def view(sid: str, hosted: Hosted) -> SessionView:
        return SessionView(session_id=sid, **hosted.host.view())

    async def observe(hosted: Hosted, obs: Observation) -> ObservationResult:
        try:
            events = await hosted.host.process(obs)
        except ObservationError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        now = hosted.host.view()
        return ObservationResult(events=hosted.host.records(events), state=now["state"], directive=now["directive"])

    async def body_bytes(request: Request, limit: int) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
        if not data:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "empty body")
        return bytes(data)

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/sessions", status_code=201, dependencies=auth)
    async def create(body: CreateSession) -> SessionView:
        sid, hosted = store.create(body)
        return view(sid, hosted)

    @app.get("/v1/sessions/{sid}", dependencies=auth)
    async def read(sid: str) -> SessionView:
        return view(sid, store.get(sid))

    @app.put("/v1/sessions/{sid}/consent", dependencies=auth)
    async def consent(sid: str, body: ConsentChangeBody) -> SessionView:
        hosted = store.get(sid)
        await hosted.host.set_consent({body.channel: body.granted})
        return view(sid, hosted)

    @app.post("/v1/sessions/{sid}/text", dependencies=auth)
    async def text(sid: str, body: TextBody) -> ObservationResult:
        if len(body.text) > settings.max_text_chars:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"text over {settings.max_text_chars} chars")
        hosted = store.get(sid)
        speaker = "user" if body.speaker == "user" else "agent"
        return await observe(hosted, TextTurn(hosted.host.media_time(body.t), body.text, speaker))

    @app.post(
        "/v1/sessions/{sid}/image",
        dependencies=auth,
        openapi_extra={"requestBody": {"content": {"image/jpeg": {}, "image/png": {}}, "required": True}},
    )
    async def image(sid: str, request: Request, t: Annotated[float | None, Query(ge=0)] = None) -> ObservationResult:
        hosted = store.get(sid)
        data = await body_bytes(request, settings.max_image_bytes)
        try:
            pixels = await asyncio.to_thread(decode_image, data, settings.max_image_pixels)
        except ObservationError as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
        return await observe(hosted, VideoFrame(hosted.host.media_time(t), pixels))

    @app.post(
        "/v1/sessions/{sid}/audio",
        dependencies=auth,
        openapi_extra={"requestBody": {"content": {"audio/wav": {}}, "required": True}},
    )
    async def audio(sid: str, request: Request, t: Annotated[float | None, Query(ge=0)] = None) -> ObservationResult:
        hosted = store.get(sid)
        data = await body_bytes(request, settings.max_audio_bytes)
        try:
            samples, rate = await asyncio.to_thread(decode_audio, data, settings.max_audio_seconds)
            chunk = AudioChunk(hosted.host.media_time(t), np.ascontiguousarray(samples), rate)
        except ObservationError as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
        return await observe(hosted, chunk)

    @app.delete("/v1/sessions/{sid}", status_code=204, dependencies=auth)
    async def delete(sid: str) -> Response:
        store.delete(sid)
        return Response(status_code=204)

    return app

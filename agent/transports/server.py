"""The HTTP API for bots in any language: sessions, observations in, emotion state and tone directive out.

FastAPI documents it at ``/docs`` (OpenAPI at ``/openapi.json``). Every route but ``/v1/health`` needs
``Authorization: Bearer <token>``, the docs included. The token is checked and the body size capped per route before
any byte of the body is read; JSON bodies with NaN, infinity or lone surrogates are refused before parsing into
models. Uploads are checked by content and size, requests are rate-limited per session, idle sessions expire, and
nothing is logged but method, route, status and timing (and, for a server error, the exception type): no text,
media, field values or secrets. Error bodies never echo what was sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from empathic.agent.session.build import build_session
from empathic.agent.session.host import EVENT_TYPES, HostedSession, MediaClock, SessionClosed
from empathic.agent.session.settings import Settings
from empathic.agent.trust.compliance import ComplianceSettings
from empathic.agent.trust.consent import Channel, ConsentLedger
from empathic.perception import (
    AudioChunk,
    EmpathicError,
    Observation,
    ObservationError,
    Perceiver,
    TextTurn,
    VideoFrame,
)
from empathic.perception.media import decode_audio, decode_image
from empathic.perception.voice.asr import AsrBackend
from empathic.policies import shipped_profiles
from fastapi import FastAPI, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("empathic.server")


class ServerSettings(BaseModel):
    """Limits and secrets of one server."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # a bad token is never echoed

    token: str = Field(default_factory=lambda: secrets.token_urlsafe(24), min_length=16)
    max_json_bytes: int = Field(64 * 1024, ge=1, description="bodies of the JSON routes")
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

    profile: str | None = Field(None, description="a shipped profile name; the server's default when absent")
    consent: ConsentBody = Field(default_factory=ConsentBody)
    compliance: ComplianceSettings | None = None


class ConsentChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    granted: bool


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    t: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="media time in seconds; server time since creation if absent"
    )
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


MediaTime = Annotated[
    float | None, Query(ge=0, allow_inf_nan=False, description="media time in seconds; server time if absent")
]


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
    """Sessions in memory only; expired ones are closed and dropped on every access.

    ``prefix`` starts every session id it makes (the Ray backend routes on it); ``perceivers`` and ``asr`` build a
    session's perceivers and speech recogniser from its settings when the configured ones are not wanted (the Ray
    backend's served models).
    """

    def __init__(
        self,
        settings: ServerSettings,
        clock: Callable[[], float],
        *,
        prefix: str = "",
        perceivers: Callable[[Settings], list[Perceiver]] | None = None,
        asr: Callable[[Settings], AsrBackend | None] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.prefix = prefix
        self.perceivers = perceivers
        self.asr = asr
        self.sessions: dict[str, Hosted] = {}

    def expire(self) -> None:
        now = self.clock()
        for sid in [s for s, h in self.sessions.items() if now - h.used > self.settings.session_ttl_s]:
            self.delete(sid)

    def create(self, body: CreateSession) -> tuple[str, Hosted]:
        self.expire()
        if len(self.sessions) >= self.settings.max_sessions:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many open sessions; delete one first")
        if body.profile is not None and body.profile not in shipped_profiles():  # never a path: no file is read
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"profile must be one of {shipped_profiles()}")
        base = self.settings.session
        profile = body.profile or base.profile
        settings = base.model_copy(update={"profile": profile, "compliance": body.compliance or base.compliance})
        consent = ConsentLedger([c for c, ok in body.consent.model_dump().items() if ok])
        try:
            chosen = None if self.perceivers is None else self.perceivers(settings)
            asr = None if self.asr is None else self.asr(settings)
            session = build_session(settings, consent=consent, perceivers=chosen, asr=asr)
        except (ValueError, EmpathicError) as exc:
            log.warning("session not built: %s", type(exc).__name__)
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "no session can be built with these settings"
            ) from None
        now = self.clock()
        sid = self.prefix + uuid.uuid4().hex
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

    # -- what the routes call: async, so that a store in other processes (the Ray backend) fits the same seam --------
    async def open(self, body: CreateSession) -> SessionView:
        return self.view(*self.create(body))

    async def read(self, sid: str) -> SessionView:
        return self.view(sid, self.get(sid))

    async def change_consent(self, sid: str, channel: Channel, granted: bool) -> SessionView:
        hosted = self.get(sid)
        await hosted.host.set_consent({channel: granted})
        return self.view(sid, hosted)

    async def admit(self, sid: str) -> None:
        """The session's rate limit and existence, checked before a media body is decoded."""
        self.get(sid)

    async def observe(
        self, sid: str, obs: Observation, t: float | None, *, admitted: bool = False
    ) -> ObservationResult:
        """Process ``obs`` at media time ``t`` (the session's media clock when None); ``admitted``: already counted."""
        hosted = self.sessions.get(sid) if admitted else self.get(sid)
        if hosted is None:
            raise SessionClosed("this session was closed; its data is gone")
        try:
            events = await hosted.host.process(dataclasses.replace(obs, t=hosted.host.media_time(t)))
        except ObservationError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        now = hosted.host.view()
        return ObservationResult(events=hosted.host.records(events), state=now["state"], directive=now["directive"])

    async def remove(self, sid: str) -> None:
        self.delete(sid)

    @staticmethod
    def view(sid: str, hosted: Hosted) -> SessionView:
        return SessionView(session_id=sid, **hosted.host.view())


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_MEDIA_ROUTE = re.compile(r"^/v1/sessions/[^/]+/(image|audio)$")
PUBLIC_PATHS = frozenset({"/v1/health"})


class BadJSON(ValueError):
    """A JSON body FastAPI would parse but that must not reach a model: NaN, infinity or a lone surrogate."""


def _no_constants(name: str) -> Any:
    raise BadJSON("NaN and infinity are not numbers a request may carry")


def check_json(data: bytes) -> None:
    """Raise :class:`BadJSON` for NaN/Infinity, a string that is not valid Unicode or nesting too deep for Python's
    parser; other errors are FastAPI's to report."""
    try:
        value = json.loads(data, parse_constant=_no_constants)
    except BadJSON:
        raise
    except RecursionError:  # FastAPI's own parse would fail the same way, as a 500
        raise BadJSON("JSON nested too deeply") from None
    except ValueError:  # not JSON (or not UTF-8): FastAPI answers 422 itself
        return
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise BadJSON("strings must be valid Unicode (no lone surrogates)") from None


class Gate:
    """Pure ASGI, outside FastAPI: token, body cap, JSON sanity, server errors and the access log.

    The token is checked and the body size capped before a byte of the body is read, so an unauthenticated or
    oversized body costs neither parsing nor memory. A server error answers a generic 500 and logs only the
    exception type and route, never the traceback (whose messages can hold what a person typed).
    """

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings

    def limit(self, path: str) -> int:
        media = _MEDIA_ROUTE.match(path)
        if media is None:
            return self.settings.max_json_bytes
        return self.settings.max_image_bytes if media.group(1) == "image" else self.settings.max_audio_bytes

    def authorised(self, scope: Scope) -> bool:
        header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        scheme, _, token = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token, self.settings.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path: str = scope["path"]
        code = 500
        started = False

        async def logged_send(message: Message) -> None:
            nonlocal code, started
            if message["type"] == "http.response.start":
                code, started = message["status"], True
            await send(message)

        async def answer(status_code: int, detail: str, headers: dict[str, str] | None = None) -> None:
            await JSONResponse({"detail": detail}, status_code, headers)(scope, receive, logged_send)

        try:
            if path not in PUBLIC_PATHS and not self.authorised(scope):
                await answer(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
                return
            body = await self.read_body(scope, receive, self.limit(path))
            if body is None:
                await answer(413, f"body over {self.limit(path)} bytes")
                return
            if body and _MEDIA_ROUTE.match(path) is None:
                try:
                    check_json(body)
                except BadJSON as exc:
                    await answer(422, str(exc))
                    return
            await self.app(scope, replay(body, receive), logged_send)
        except Exception as exc:  # the last line of defence: no traceback, no values
            route = getattr(scope.get("route"), "path", "?")
            log.error("%s %s: unhandled %s", scope["method"], route, type(exc).__name__)
            if not started:
                await answer(500, "internal error")
        finally:
            route = getattr(scope.get("route"), "path", "?")
            log.info("%s %s %d %.1fms", scope["method"], route, code, 1000 * (time.perf_counter() - start))

    @staticmethod
    async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None as soon as it is known to exceed ``limit`` (declared or counted)."""
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return None
        data = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            data += message.get("body", b"")
            if len(data) > limit:
                return None
            if not message.get("more_body", False):
                break
        return bytes(data)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the already read body once, then waits on the client (for disconnects)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def create_app(
    settings: ServerSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
    store: SessionStore | None = None,
) -> FastAPI:
    """The API as a FastAPI app; ``clock`` drives expiry, rate limits and default media times.

    ``store`` holds the sessions (default: a :class:`SessionStore` in this process); any object with its async
    operations and ``settings`` serves, e.g. the Ray backend's session router.
    """
    settings = settings or ServerSettings()
    store = store or SessionStore(settings, clock)
    app = FastAPI(
        title="empathic",
        version="1",
        description="Emotion state and tone directive for conversational agents. Bearer token required.",
    )
    app.state.store = store
    app.add_middleware(Gate, settings=settings)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """Where and why a request is invalid, never the value sent (it may be personal, or not JSON-able)."""
        errors = [{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(SessionClosed)
    async def closed(request: Request, exc: SessionClosed) -> JSONResponse:
        """A session deleted or expired while one of its requests waited for its turn."""
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    async def nonempty(request: Request) -> bytes:
        """The body :class:`Gate` already read and capped to this route's limit."""
        data = await request.body()
        if not data:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "empty body")
        return data

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/sessions", status_code=201)
    async def create(body: CreateSession) -> SessionView:
        return await store.open(body)

    @app.get("/v1/sessions/{sid}")
    async def read(sid: str) -> SessionView:
        return await store.read(sid)

    @app.put("/v1/sessions/{sid}/consent")
    async def consent(sid: str, body: ConsentChangeBody) -> SessionView:
        return await store.change_consent(sid, body.channel, body.granted)

    @app.post("/v1/sessions/{sid}/text")
    async def text(sid: str, body: TextBody) -> ObservationResult:
        if len(body.text) > settings.max_text_chars:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"text over {settings.max_text_chars} chars")
        speaker = "user" if body.speaker == "user" else "agent"
        return await store.observe(sid, TextTurn(0.0, body.text, speaker), body.t)

    @app.post(
        "/v1/sessions/{sid}/image",
        openapi_extra={"requestBody": {"content": {"image/jpeg": {}, "image/png": {}}, "required": True}},
    )
    async def image(sid: str, request: Request, t: MediaTime = None) -> ObservationResult:
        await store.admit(sid)
        data = await nonempty(request)
        try:
            pixels = await asyncio.to_thread(decode_image, data, settings.max_image_pixels)
        except ObservationError as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
        return await store.observe(sid, VideoFrame(0.0, pixels), t, admitted=True)

    @app.post(
        "/v1/sessions/{sid}/audio",
        openapi_extra={"requestBody": {"content": {"audio/wav": {}}, "required": True}},
    )
    async def audio(sid: str, request: Request, t: MediaTime = None) -> ObservationResult:
        await store.admit(sid)
        data = await nonempty(request)
        try:
            samples, rate = await asyncio.to_thread(decode_audio, data, settings.max_audio_seconds)
            chunk = AudioChunk(0.0, np.ascontiguousarray(samples), rate)
        except ObservationError as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
        return await store.observe(sid, chunk, t, admitted=True)

    @app.delete("/v1/sessions/{sid}", status_code=204)
    async def delete(sid: str) -> Response:
        await store.remove(sid)
        return Response(status_code=204)

    return app

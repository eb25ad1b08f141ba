"""``empathic serve --backend ray``: the same FastAPI app on Ray Serve, sessions on shard actors (``[ray]`` extra).

One definition of the API: the ingress deployment serves :func:`~empathic.agent.transports.server.create_app`,
given a :class:`RaySessions` store instead of the in-process one. Each session lives on one of a fixed set of
:class:`SessionShard` actors (named, detached, restarted when they die) for its whole life; its id names the shard
and the shard's incarnation, so every ingress replica routes it to the same place without a shared table. A shard
is a :class:`~empathic.agent.transports.server.SessionStore` in an async actor, which may start calls in any order:
a :class:`Sequencer` starts each router's calls in the order it sent them, and the session's
:class:`~empathic.agent.session.host.HostedSession` lock keeps them in that order.

A shard that dies loses only its sessions: while it restarts their requests get 503 with ``Retry-After``, and after
it the old ids get 503 saying the session is gone (open a new one). Expiry runs on every shard at each access and
on all shards when a session is opened; the session cap counts all shards. Times come from the ingress (``clock``,
wall time by default, since replicas on different machines share no monotonic clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from empathic.agent.session.build import build_perceivers, speech_config
from empathic.agent.session.host import SessionClosed
from empathic.agent.session.settings import Settings
from empathic.agent.transports.server import (
    CreateSession,
    ObservationResult,
    ServerSettings,
    SessionStore,
    SessionView,
    create_app,
)
from empathic.agent.trust.consent import Channel
from empathic.perception import Observation, Perceiver
from empathic.perception._optional import require
from empathic.perception.device import VARIABLE, configured
from empathic.perception.voice.asr import AsrBackend
from fastapi import HTTPException, status
from pydantic import BaseModel, Field

NAMESPACE = "empathic"
RETRY_AFTER = {"Retry-After": "1"}


class RayOptions(BaseModel):
    """How the Ray backend is laid out: replica counts and what each replica asks of the cluster."""

    name: str = Field("empathic", pattern=r"^[a-z0-9-]+$", description="Serve application and shard actor names")
    shards: int = Field(2, ge=1, description="session-host actors; a session stays on one for its life")
    api_replicas: int = Field(1, ge=1, description="ingress replicas running the FastAPI app")
    text_replicas: int = Field(1, ge=1, description="text-embedding replicas")
    text_cpus: float = Field(1.0, ge=0, description="CPUs per text-embedding replica")
    text_gpus: float = Field(0.0, ge=0, description="GPUs per text-embedding replica (the model goes on cuda)")
    max_batch_size: int = Field(32, ge=1, description="text-embedding batch cap; 1 turns batching off")
    batch_wait_s: float = Field(0.005, ge=0, description="longest a request waits for others to join its batch")
    speech_replicas: int = Field(1, ge=0, description="Whisper replicas; 0: each shard runs its own")
    speech_cpus: float = Field(1.0, ge=0, description="CPUs per speech-recognition replica")
    speech_gpus: float = Field(0.0, ge=0, description="GPUs per speech-recognition replica (Whisper goes on cuda)")
    shard_cpus: float = Field(0.25, ge=0, description="CPUs reserved per session-host actor")
    api_cpus: float = Field(0.25, ge=0, description="CPUs reserved per ingress replica")
    api_max_ongoing_requests: int = Field(
        256, ge=1, description="requests one ingress replica takes at once (they mostly wait on shards)"
    )


def require_ray() -> Any:
    """The ``ray`` module, or :class:`MissingDependency` naming the ``[ray]`` extra."""
    require("ray.serve", "ray", "the Ray backend")
    return require("ray", "ray", "the Ray backend")


def shard_name(app: str, index: int) -> str:
    return f"{app}-session-shard-{index}"


class Sequencer:
    """Lets one sender's calls start in the order it numbered them (an async actor may start them in any order).

    A call whose predecessor never comes (lost when its sender or this shard restarted) waits ``patience`` seconds
    at most, then goes on.
    """

    def __init__(self, first: int, patience: float = 2.0) -> None:
        self.next = first
        self.patience = patience
        self.changed = asyncio.Condition()

    async def turn(self, seq: int) -> None:
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait_for(lambda: self.next >= seq), self.patience)

    async def done(self, seq: int) -> None:
        async with self.changed:
            self.next = max(self.next, seq + 1)
            self.changed.notify_all()


class SessionShard:
    """Some of the sessions, in one async actor (made a Ray actor by :func:`shard_actors`).

    Every call carries the ingress's time; errors come back as values (status, detail, headers), since an
    exception crossing processes would arrive wrapped.
    """

    def __init__(self, settings_json: str, index: int, text: Any, speech: Any = None) -> None:
        self.index = index
        self.served = self.served_perceivers(text)
        self.asr = None if speech is None else self.served_asr(speech)
        self.start(settings_json)

    def reset(self, settings_json: str) -> None:
        """Start over as a new incarnation under new settings: every session is closed, and ids issued before are
        answered as lost (as after a restart; the test suite resets shards instead of paying for new processes)."""
        for sid in list(self.store.sessions):
            self.store.delete(sid)
        self.start(settings_json)

    def start(self, settings_json: str) -> None:
        self.prefix = f"{self.index}-{uuid.uuid4().hex[:8]}-"
        self.now = 0.0
        self.senders: dict[str, Sequencer] = {}
        settings = ServerSettings.model_validate_json(settings_json)
        self.store = SessionStore(settings, lambda: self.now, prefix=self.prefix, perceivers=self.served, asr=self.asr)

    @staticmethod
    def served_perceivers(text: Any) -> Callable[[Settings], list[Perceiver]]:
        from empathic.agent.transports.ray_perception import ServedEmbedder

        embedder = ServedEmbedder(text)  # one per shard: sessions share it, as they share the in-process model
        return lambda settings: build_perceivers(settings, embedder=embedder)

    @staticmethod
    def served_asr(speech: Any) -> Callable[[Settings], AsrBackend]:
        from empathic.agent.transports.ray_perception import ServedAsr

        def asr(settings: Settings) -> AsrBackend:
            config = speech_config(settings)
            return ServedAsr(speech, config.asr, config.language, embed=config.emotion == "head")

        return asr

    async def call(self, sender: str, seq: int, op: str, now: float, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """``("ok", result)`` or ``("error", status, detail, headers)`` of one store operation at time ``now``,
        started after ``sender``'s calls numbered before ``seq``."""
        gate = self.senders.setdefault(sender, Sequencer(seq))
        await gate.turn(seq)
        started = asyncio.ensure_future(self.run(op, now, *args, **kwargs))
        await asyncio.sleep(0)  # it starts, and queues on its session's lock, before the next call may
        await gate.done(seq)
        return await started

    async def run(self, op: str, now: float, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        self.now = max(self.now, now)  # calls from several ingress replicas may overtake each other by a little
        if op != "open" and not str(args[0]).startswith(self.prefix):
            return ("error", 503, "this session's host restarted and its state is gone; open a new one", RETRY_AFTER)
        try:
            return ("ok", await getattr(self.store, op)(*args, **kwargs))
        except HTTPException as exc:
            return ("error", exc.status_code, exc.detail, exc.headers)
        except SessionClosed as exc:
            return ("error", 404, str(exc), None)

    def census(self, now: float) -> list[str]:
        """The ids of this shard's live sessions at ``now`` (expired ones are closed first)."""
        self.now = max(self.now, now)
        self.store.expire()
        return list(self.store.sessions)


def shard_actors(settings: ServerSettings, options: RayOptions, text: Any, speech: Any = None) -> list[Any]:
    """The shard actors, made by the first caller and found by every later one (by name); ``text`` and ``speech``
    are the text-embedding and speech-recognition deployments' handles (no ``speech``: shards run Whisper)."""
    ray = require_ray()
    actor = ray.remote(SessionShard)
    json = settings.model_dump_json()
    return [
        actor.options(
            name=shard_name(options.name, i),
            namespace=NAMESPACE,
            get_if_exists=True,
            lifetime="detached",  # outlives the replica that made it: sessions stay when an ingress replica goes
            max_restarts=-1,
            max_concurrency=1000,
            num_cpus=options.shard_cpus,
            scheduling_strategy="SPREAD",  # over the nodes: a node that goes takes the fewest sessions with it
        ).remote(json, i, text, speech)
        for i in range(options.shards)
    ]


class RaySessions:
    """The store the ingress's app uses: each operation goes to the shard that holds the session."""

    def __init__(self, settings: ServerSettings, clock: Callable[[], float], shards: list[Any]) -> None:
        self.settings = settings
        self.clock = clock
        self.shards = shards
        self.name = uuid.uuid4().hex  # this router, to the shards that keep its calls in order
        self.sent = [itertools.count() for _ in shards]

    def shard(self, sid: str) -> int:
        head = sid.split("-", 1)[0]
        if not head.isdigit() or int(head) >= len(self.shards):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such session (deleted or expired)")
        return int(head)

    async def call(self, index: int, op: str, *args: Any, **kwargs: Any) -> Any:
        ray = require_ray()
        try:
            seq = next(self.sent[index])
            answer = await self.shards[index].call.remote(self.name, seq, op, self.clock(), *args, **kwargs)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the host of this session is restarting; retry (a session it held is gone: open a new one)",
                headers=RETRY_AFTER,
            ) from exc
        if answer[0] == "error":
            raise HTTPException(answer[1], answer[2], headers=answer[3])
        return answer[1]

    async def census(self) -> list[list[str]]:
        now = self.clock()
        return await asyncio.gather(*(s.census.remote(now) for s in self.shards))

    @property
    def sessions(self) -> dict[str, int]:
        """Every live session id and the shard holding it (blocking: for tests and operators, not routes)."""
        ray = require_ray()
        now = self.clock()
        held = ray.get([s.census.remote(now) for s in self.shards])
        return {sid: i for i, sids in enumerate(held) for sid in sids}

    async def open(self, body: CreateSession) -> SessionView:
        held = await self.census()
        if sum(map(len, held)) >= self.settings.max_sessions:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many open sessions; delete one first")
        emptiest = min(range(len(held)), key=lambda i: len(held[i]))
        return await self.call(emptiest, "open", body)

    async def read(self, sid: str) -> SessionView:
        return await self.call(self.shard(sid), "read", sid)

    async def change_consent(self, sid: str, channel: Channel, granted: bool) -> SessionView:
        return await self.call(self.shard(sid), "change_consent", sid, channel, granted)

    async def admit(self, sid: str) -> None:
        await self.call(self.shard(sid), "admit", sid)

    async def observe(
        self, sid: str, obs: Observation, t: float | None, *, admitted: bool = False
    ) -> ObservationResult:
        return await self.call(self.shard(sid), "observe", sid, obs, t, admitted=admitted)

    async def remove(self, sid: str) -> None:
        await self.call(self.shard(sid), "remove", sid)


class Api:
    """The ingress deployment's class: the API app over :class:`RaySessions` (wrapped by :func:`application`)."""

    def __init__(self, settings_json: str, options_json: str, text: Any, speech: Any = None) -> None:
        self.settings = ServerSettings.model_validate_json(settings_json)
        self.shards = shard_actors(self.settings, RayOptions.model_validate_json(options_json), text, speech)

    def __serve_build_asgi_app__(self) -> Any:
        return create_app(self.settings, time.time, RaySessions(self.settings, time.time, self.shards))


def text_deployment(options: RayOptions) -> Any:
    """The text-embedding deployment with ``options``' replicas, resources and batching."""
    require_ray()
    from empathic.agent.transports.ray_perception import TextEmbedding
    from ray import serve

    actor = {"num_cpus": options.text_cpus, "num_gpus": options.text_gpus}
    return serve.deployment(
        TextEmbedding,
        name="text-embedding",
        num_replicas=options.text_replicas,
        ray_actor_options=actor,
        # A batch can only gather the requests a replica takes; past its limit the router backs off and retries, which
        # made one-at-a-time (batch 1, limit 2) look 8x slower than it is: callers queue at the replica instead.
        max_ongoing_requests=max(2 * options.max_batch_size, 64),
    ).bind(options.max_batch_size, options.batch_wait_s)


def speech_deployment(options: RayOptions) -> Any:
    """The speech-recognition deployment with ``options``' replicas and resources (None with no replicas)."""
    if not options.speech_replicas:
        return None
    require_ray()
    from empathic.agent.transports.ray_perception import SpeechRecognition
    from ray import serve

    actor = {"num_cpus": options.speech_cpus, "num_gpus": options.speech_gpus}
    return serve.deployment(
        SpeechRecognition, name="speech-recognition", num_replicas=options.speech_replicas, ray_actor_options=actor
    ).bind()


def application(settings: ServerSettings, options: RayOptions) -> Any:
    """The Serve application: the ingress over the text-embedding and speech-recognition deployments."""
    require_ray()
    from ray import serve

    ingress = serve.deployment(
        serve.ingress()(Api),
        name="api",
        num_replicas=options.api_replicas,
        ray_actor_options={"num_cpus": options.api_cpus},
        max_ongoing_requests=options.api_max_ongoing_requests,
    )
    text, speech = text_deployment(options), speech_deployment(options)
    return ingress.bind(settings.model_dump_json(), options.model_dump_json(), text, speech)


def build(args: dict[str, Any]) -> Any:
    """The application for a Serve config file or a KubeRay ``RayService``
    (``import_path: empathic.agent.transports.ray_backend:build``): ``args`` holds :class:`RayOptions` fields, the
    token comes from ``EMPATHIC_API_TOKEN`` (a secret, never a config value)."""
    token = os.environ.get("EMPATHIC_API_TOKEN", "")
    return application(ServerSettings(token=token), RayOptions.model_validate(args))


def stop_shards(options: RayOptions) -> None:
    """Kill the detached shard actors (Serve's shutdown does not: they are not deployments)."""
    ray = require_ray()
    for i in range(options.shards):
        with contextlib.suppress(ValueError):  # never made
            ray.kill(ray.get_actor(shard_name(options.name, i), namespace=NAMESPACE))


def serve_ray(settings: ServerSettings, options: RayOptions, host: str, port: int, *, address: str | None) -> None:
    """Run the API on Ray Serve until interrupted: on the cluster at ``address``, or a local one made here."""
    ray = require_ray()
    from ray import serve

    env = {VARIABLE: configured()}  # every replica and shard honours this process's device setting
    ray.init(address=address, namespace=NAMESPACE, include_dashboard=False, runtime_env={"env_vars": env})
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(application(settings, options), name=options.name, route_prefix="/")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        serve.shutdown()
        stop_shards(options)
        ray.shutdown()

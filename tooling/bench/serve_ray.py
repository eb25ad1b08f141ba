"""``empathic bench serve --backend ray``: text turns on Ray Serve beside the single-process server, in one run.

- ``http``: ``sessions`` text-only sessions each send turns back to back (a closed loop: the server's capacity, not
  an offered rate) for ``seconds``, against the single-process server in a child process (the baseline) and against
  Ray Serve on a local cluster of the same 2 CPUs with 1, 2 and 4 text-embedding replicas (sharing those CPUs).
  Throughput, p50/p95 each.
- ``batching``: the text-embedding deployment alone, one replica on one CPU, ``callers`` concurrent one-turn
  requests, with batching off (``max_batch_size`` 1) and on (32): what dynamic batching buys on the same core.
- ``nodes``: the same deployment on a simulated cluster (``ray.cluster_utils.Cluster``) of one, then two virtual
  nodes of one CPU each, a replica per node: routing and batching across nodes for CPU-bound perception.

The Ray runs need the ``[ray]`` extra; every cluster is shut down before the bench returns.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from empathic.agent.session.latency import latency_summary
from empathic.agent.transports.loopback import free_port
from empathic.agent.transports.ray_backend import (
    NAMESPACE,
    RayOptions,
    application,
    require_ray,
    stop_shards,
    text_deployment,
)
from empathic.agent.transports.server import ServerSettings
from empathic.tooling.bench.serve import _TEXTS, TOKEN, _call, _open, _Tally, serving_process

_LAYERS = (6,)


async def _closed_loop(port: int, sessions: int, seconds: float) -> dict[str, Any]:
    """``sessions`` sessions each sending text turns back to back for ``seconds``."""
    tally = _Tally()
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=sessions * 2)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as http:
        sids = [s for s in [await _open(http, tally, {"text": True}) for _ in range(sessions)] if s is not None]
        for sid in sids:  # one untimed turn each: model loading is not measured
            await _call(http, tally, "POST", f"/v1/sessions/{sid}/text", json={"text": "hello"})
        start = time.perf_counter()
        end = start + seconds

        async def client(sid: str, k: int) -> None:
            while time.perf_counter() < end:
                sent = time.perf_counter()
                body = {"text": _TEXTS[k % len(_TEXTS)]}
                if await _call(http, tally, "POST", f"/v1/sessions/{sid}/text", json=body) is not None:
                    latencies.append(time.perf_counter() - sent)
                k += 1

        await asyncio.gather(*(client(sid, i) for i, sid in enumerate(sids)))
        wall = time.perf_counter() - start
        for sid in sids:
            await _call(http, tally, "DELETE", f"/v1/sessions/{sid}")
    return {
        "sessions": len(sids),
        "turns": len(latencies),
        "throughput_tps": round(len(latencies) / wall, 1),
        "turn": latency_summary(latencies),
        "status_counts": tally.counts(),
        "errors": tally.errors,
    }


def _wait_healthy(port: int, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the API did not answer /v1/health within {timeout_s:.0f} s")


def _ray_http(settings: ServerSettings, sessions: int, seconds: float, replicas: tuple[int, ...]) -> dict[str, Any]:
    ray = require_ray()
    from ray import serve

    out: dict[str, Any] = {}
    ray.init(num_cpus=2, namespace=NAMESPACE, include_dashboard=False)
    try:
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        for n in replicas:
            # text turns only: no Whisper replica to hold a CPU
            options = RayOptions(name=f"bench-{n}", text_replicas=n, text_cpus=1.0 / n, speech_replicas=0)
            serve.run(application(settings, options), name=options.name, route_prefix="/")
            _wait_healthy(port)
            out[f"ray_{n}_replicas"] = asyncio.run(_closed_loop(port, sessions, seconds))
            serve.delete(options.name)
            stop_shards(options)
    finally:
        serve.shutdown()
        ray.shutdown()
    return out


async def _hammer(handle: Any, callers: int, seconds: float) -> dict[str, Any]:
    """``callers`` loops each awaiting one one-turn encode after another for ``seconds``."""
    latencies: list[float] = []
    end = time.perf_counter() + seconds

    async def caller(k: int) -> None:
        while time.perf_counter() < end:
            sent = time.perf_counter()
            await handle.encode.remote((_TEXTS[k % len(_TEXTS)],), _LAYERS)
            latencies.append(time.perf_counter() - sent)
            k += 1

    await handle.encode.remote(("warm up",), _LAYERS)
    start = time.perf_counter()
    await asyncio.gather(*(caller(k) for k in range(callers)))
    wall = time.perf_counter() - start
    return {
        "texts": len(latencies),
        "texts_per_s": round(len(latencies) / wall, 1),
        "latency": latency_summary(latencies),
    }


def _perception(callers: int, seconds: float) -> dict[str, Any]:
    """Batching off and on for one replica, then one and two virtual nodes, on a simulated cluster."""
    ray = require_ray()
    from ray import serve
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    out: dict[str, Any] = {}
    try:
        ray.init(address=cluster.address, namespace=NAMESPACE)
        for batch in (1, 32):
            options = RayOptions(name="bench-text", max_batch_size=batch)
            handle = serve.run(text_deployment(options), name=options.name, route_prefix=None)
            out.setdefault("batching", {})[f"max_batch_{batch}"] = asyncio.run(_hammer(handle, callers, seconds))
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        for nodes in (1, 2):
            options = RayOptions(name="bench-text", text_replicas=nodes)  # one CPU each: one replica per node
            handle = serve.run(text_deployment(options), name=options.name, route_prefix=None)
            # one CPU per replica and per node: the second replica can only go to the second node
            out.setdefault("nodes", {})[f"{nodes}_node"] = asyncio.run(_hammer(handle, callers, seconds))
    finally:
        serve.shutdown()
        ray.shutdown()
        cluster.shutdown()
    b, n = out["batching"], out["nodes"]
    out["batching"]["speedup"] = round(b["max_batch_32"]["texts_per_s"] / b["max_batch_1"]["texts_per_s"], 2)
    out["nodes"]["speedup"] = round(n["2_node"]["texts_per_s"] / n["1_node"]["texts_per_s"], 2)
    return out


def bench_ray(sessions: int = 16, seconds: float = 20.0, callers: int = 32) -> dict[str, object]:
    """The three measurements; the process baseline runs first, then each Ray cluster in turn."""
    settings = ServerSettings(token=TOKEN, max_sessions=max(sessions, 1), rate_per_s=1000.0, burst=1000)
    with serving_process(settings) as (port, _pid):
        baseline = asyncio.run(_closed_loop(port, sessions, seconds))
    http = {"process": baseline, **_ray_http(settings, sessions, seconds, (1, 2, 4))}
    best = max(http[k]["throughput_tps"] for k in http if k.startswith("ray_"))
    return {
        "bench": "serve-ray",
        "sessions": sessions,
        "seconds": seconds,
        "http": http,
        "ray_best_vs_process_throughput": round(best / baseline["throughput_tps"], 2) if baseline["turns"] else 0.0,
        **_perception(callers, seconds),
    }

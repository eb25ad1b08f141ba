"""``empathic bench serve``: concurrent sessions posting camera frames to the HTTP API on loopback.

It starts the API on a free 127.0.0.1 port, opens ``sessions`` sessions with camera consent, and has each post a
640x480 JPEG ``fps`` times a second for ``seconds`` (bounded in count and time; loopback only). It reports request
latency p50/p95 for the first and the second half of the run, so growing latency shows, and the throughput.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time

import httpx
import numpy as np
import uvicorn
from empathic.agent.session.latency import latency_summary
from empathic.agent.transports.loopback import free_port
from empathic.agent.transports.server import ServerSettings, create_app
from PIL import Image


def test_frame() -> bytes:
    """A real face photo when scikit-image is installed (its astronaut), else a textured synthetic frame."""
    try:
        from skimage import data

        rgb = data.astronaut()
    except ImportError:
        rgb = (np.indices((480, 640)).sum(axis=0) % 256).astype(np.uint8)[..., None].repeat(3, axis=2)
    img = Image.fromarray(rgb).resize((640, 480))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def bench_serve(sessions: int = 8, fps: float = 5.0, seconds: float = 20.0) -> dict[str, object]:
    token = "bench-" + "x" * 20
    port = free_port()
    settings = ServerSettings(token=token, max_sessions=max(sessions, 1), rate_per_s=fps * 4, burst=int(fps * 8))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    frame = test_frame()
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[tuple[float, float]] = []
    statuses: dict[int, int] = {}
    late = 0

    async def warm(http: httpx.AsyncClient) -> str:
        """Open a session and send one untimed frame, so model loading is not measured."""
        r = await http.post("/v1/sessions", json={"consent": {"camera": True}}, headers=headers)
        sid = str(r.json()["session_id"])
        await http.post(f"/v1/sessions/{sid}/image?t=0", content=frame, headers=headers)
        return sid

    async def client(http: httpx.AsyncClient, sid: str, start: float) -> None:
        nonlocal late
        for k in range(1, int(seconds * fps) + 1):
            due = start + (k - 1) / fps
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late += 1
            sent = time.perf_counter()
            resp = await http.post(f"/v1/sessions/{sid}/image?t={k / fps:.3f}", content=frame, headers=headers)
            latencies.append((sent - start, time.perf_counter() - sent))
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        await http.delete(f"/v1/sessions/{sid}", headers=headers)

    async def run() -> float:
        limits = httpx.Limits(max_connections=sessions * 2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as http:
            sids = await asyncio.gather(*(warm(http) for _ in range(sessions)))
            start = time.perf_counter()
            await asyncio.gather(*(client(http, sid, start) for sid in sids))
            return time.perf_counter() - start

    try:
        wall = asyncio.run(run())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    first = [lat for at, lat in latencies if at < seconds / 2]
    second = [lat for at, lat in latencies if at >= seconds / 2]
    return {
        "bench": "serve",
        "sessions": sessions,
        "fps_per_session": fps,
        "seconds": seconds,
        "requests": len(latencies),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "throughput_rps": round(len(latencies) / wall, 1),
        "target_rps": sessions * fps,
        "first_half": latency_summary(first),
        "second_half": latency_summary(second),
        "late_sends": late,
    }

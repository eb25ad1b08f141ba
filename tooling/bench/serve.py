"""``empathic bench serve`` and ``serve-limits``: the HTTP API under load and under abuse, on loopback.

``serve`` starts the API on a free 127.0.0.1 port, opens ``sessions`` sessions with camera consent, and has each post
a 640x480 JPEG ``fps`` times a second for ``seconds`` (bounded in count and time; loopback only). It reports request
latency p50/p95 for the first and the second half of the run, so growing latency shows, and the throughput.

``serve-limits`` sends 50 MB bodies (declared and chunked, with and without the token) and reports how fast each is
refused and how much the server's memory grew; then it has ten 4,000-character emoji turns in flight at once and
reports their latency and that of ``/v1/health`` meanwhile (model calls and text analysis must leave the event loop).
"""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
import uvicorn
from empathic.agent.session.latency import latency_summary
from empathic.agent.transports.loopback import free_port
from empathic.agent.transports.server import ServerSettings, create_app
from empathic.tooling.bench.stress import rss_mb
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
    settings = ServerSettings(token=TOKEN, max_sessions=max(sessions, 1), rate_per_s=fps * 4, burst=int(fps * 8))
    with serving(settings) as port:
        return _load(port, sessions, fps, seconds)


TOKEN = "bench-" + "x" * 20


@contextmanager
def serving(settings: ServerSettings) -> Iterator[int]:
    """The API on a real uvicorn server on a free 127.0.0.1 port (in a thread of this process), stopped after."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _load(port: int, sessions: int, fps: float, seconds: float) -> dict[str, object]:
    token = TOKEN
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

    wall = asyncio.run(run())
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


def _refuse(port: int, path: str, size: int, *, token: bool, chunked: bool) -> dict[str, object]:
    """Send a ``size``-byte body from one reused 64 KiB buffer; time until the status line comes back."""
    piece = b"x" * 65536
    frame = b"10000\r\n" + piece + b"\r\n" if chunked else piece
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += f"Authorization: Bearer {TOKEN}\r\n" if token else ""
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    sent = 0
    answered = threading.Event()

    def push(sock: socket.socket) -> None:
        nonlocal sent
        try:
            while sent < size and not answered.is_set():
                sock.sendall(frame)
                sent += len(piece)
            if chunked and not answered.is_set():
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered and closed: the rest is never sent
            pass

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        start = time.perf_counter()
        sock.sendall(head.encode())
        pusher = threading.Thread(target=push, args=(sock,), daemon=True)
        pusher.start()
        reply = b""
        try:
            while b"\r\n" not in reply:
                data = sock.recv(4096)
                if not data:
                    break
                reply += data
        except OSError:
            pass
        elapsed = time.perf_counter() - start
        answered.set()
    pusher.join(timeout=10)
    status = reply.split(b" ", 2)[1].decode() if reply.count(b" ") >= 2 else "none"
    return {"status": status, "refused_ms": round(1000 * elapsed, 1), "client_sent_mb": round(sent / 2**20, 1)}


def bench_limits(body_mb: int = 50, turns: int = 10) -> dict[str, object]:
    """Oversized and unauthenticated bodies refused (time, memory), and health latency during heavy text turns."""
    size = body_mb * 2**20
    out: dict[str, object] = {"bench": "serve-limits", "body_mb": body_mb}
    settings = ServerSettings(token=TOKEN, max_sessions=turns + 1)
    with serving(settings) as port:
        refusals = {}
        for name, path, token, chunked in [
            ("no_token_declared", "/v1/sessions", False, False),
            ("no_token_chunked", "/v1/sessions/x/text", False, True),
            ("token_declared_over_cap", "/v1/sessions/x/text", True, False),
            ("token_chunked_over_cap", "/v1/sessions/x/text", True, True),
        ]:
            before = rss_mb()
            result = _refuse(port, path, size, token=token, chunked=chunked)
            result["rss_growth_mb"] = round(rss_mb() - before, 1)
            refusals[name] = result
        out["refusals"] = refusals
        out.update(asyncio.run(_turns_and_health(port, turns)))
    return out


async def _turns_and_health(port: int, turns: int) -> dict[str, object]:
    """``turns`` sessions each send one 4,000-character emoji turn at once; /v1/health is polled meanwhile."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    text = ("😡😭😂🙏🤔👍🔥💔" * 500)[:4000]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=60) as http, httpx.AsyncClient(base_url=url) as probe:
        sids = []
        for _ in range(turns):
            r = await http.post("/v1/sessions", json={"consent": {"text": True}}, headers=headers)
            sids.append(str(r.json()["session_id"]))
        for sid in sids:  # warm: model loading is not measured
            await http.post(f"/v1/sessions/{sid}/text", json={"text": "hello"}, headers=headers)
        turn_s: list[float] = []
        statuses: dict[int, int] = {}

        async def turn(sid: str) -> None:
            sent = time.perf_counter()
            r = await http.post(f"/v1/sessions/{sid}/text", json={"text": text}, headers=headers)
            turn_s.append(time.perf_counter() - sent)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        health_s: list[float] = []
        running = asyncio.gather(*(turn(sid) for sid in sids))
        while not running.done():
            sent = time.perf_counter()
            await probe.get("/v1/health")
            health_s.append(time.perf_counter() - sent)
            await asyncio.sleep(0.01)
        await running
    return {
        "turns": turns,
        "text_chars": len(text),
        "turn_status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "turn": latency_summary(turn_s),
        "health_probes": len(health_s),
        "health": latency_summary(health_s),
    }

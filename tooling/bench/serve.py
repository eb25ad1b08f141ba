"""``empathic bench serve`` and ``serve-limits``: the HTTP API under load and under abuse, on loopback.

``serve`` starts the API on a free 127.0.0.1 port, opens ``sessions`` sessions with camera consent, and has each post
a 640x480 JPEG ``fps`` times a second for ``seconds`` (bounded in count and time; loopback only). It reports request
latency p50/p95 for the first and the second half of the run, so growing latency shows, and the throughput.

``serve-limits`` sends 50 MB bodies (declared and chunked, with and without the token) and reports how fast each is
refused and how much the server's memory grew; then it has ten 4,000-character emoji turns in flight at once and
reports their latency and that of ``/v1/health`` meanwhile (model calls and text analysis must leave the event loop).

``serve-leak`` starts the API in a child process (so its resident memory is its own, read from /proc/PID/status) and
runs ``rounds`` of: open a session with camera and text consent, post one small JPEG and one text turn, delete it. It
reports the server's RSS after the first and the last round, then the RSS cost per open camera session and per open
text-only session.

``serve-text`` has ``sessions`` text-only sessions each send one turn a second for ``seconds`` against the API in a
child process, and reports the turn latency overall and for the first and the second half of the run.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
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


def _halves(latencies: list[tuple[float, float]], seconds: float) -> dict[str, dict[str, float]]:
    """Latency of the requests sent in the first and in the second half of a run: growth shows as a difference."""
    return {
        "first_half": latency_summary([lat for at, lat in latencies if at < seconds / 2]),
        "second_half": latency_summary([lat for at, lat in latencies if at >= seconds / 2]),
    }


async def _wait_until(due: float) -> bool:
    """Sleep until ``due`` (``perf_counter`` seconds); True when that is already past, a late send."""
    delay = due - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
        return False
    return True


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
            late += await _wait_until(start + (k - 1) / fps)
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
    return {
        "bench": "serve",
        "sessions": sessions,
        "fps_per_session": fps,
        "seconds": seconds,
        "requests": len(latencies),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "throughput_rps": round(len(latencies) / wall, 1),
        "target_rps": sessions * fps,
        **_halves(latencies, seconds),
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


# -- the API in a child process ------------------------------------------------------------------------------------
_CHILD = """
import os, uvicorn
from empathic.agent.transports.server import ServerSettings, create_app
settings = ServerSettings.model_validate_json(os.environ["EMPATHIC_BENCH_SETTINGS"])
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(os.environ["EMPATHIC_BENCH_PORT"]), log_level="error")
"""


def process_rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` now (VmRSS in /proc/PID/status), in MB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextmanager
def serving_process(settings: ServerSettings) -> Iterator[tuple[int, int]]:
    """The API on uvicorn in a child Python process on a free 127.0.0.1 port; yields (port, pid), stopped after."""
    port = free_port()
    env = dict(os.environ, EMPATHIC_BENCH_SETTINGS=settings.model_dump_json(), EMPATHIC_BENCH_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                raise RuntimeError(f"the API process exited with {proc.returncode}: {err}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API process did not answer /v1/health within 120 s")
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def small_jpeg(width: int = 160, height: int = 120, seed: int = 0) -> bytes:
    """A small textured JPEG made here (no face in it: the bench measures memory, not detection)."""
    rng = np.random.default_rng(seed)
    rgb = (rng.random((height, width, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=80)
    return buf.getvalue()


_HEADERS = {"Authorization": f"Bearer {TOKEN}"}
_TEXTS = [
    "I'm really frustrated, this is the third time it broke.",
    "Thanks, that actually helped a lot!",
    "Hmm, I'm not sure I follow. Can you explain again?",
    "Great, so what do I do next?",
]


class _Tally:
    """Status counts; anything not 2xx (or a transport failure) is an error."""

    def __init__(self) -> None:
        self.statuses: dict[str, int] = {}

    def add(self, status: int | str) -> bool:
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        return isinstance(status, int) and 200 <= status < 300

    @property
    def errors(self) -> int:
        return sum(n for k, n in self.statuses.items() if not (k.isdigit() and 200 <= int(k) < 300))

    def counts(self) -> dict[str, int]:
        return dict(sorted(self.statuses.items()))


async def _call(http: httpx.AsyncClient, tally: _Tally, method: str, url: str, **kw: object) -> httpx.Response | None:
    try:
        r = await http.request(method, url, headers=_HEADERS, **kw)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        tally.add(type(exc).__name__)
        return None
    tally.add(r.status_code)
    return r


async def _open(http: httpx.AsyncClient, tally: _Tally, consent: dict[str, bool]) -> str | None:
    r = await _call(http, tally, "POST", "/v1/sessions", json={"consent": consent})
    return str(r.json()["session_id"]) if r is not None and r.status_code == 201 else None


def bench_leak(rounds: int = 200, open_sessions: int = 16) -> dict[str, object]:
    """Server RSS over ``rounds`` open-use-delete cycles, and per open camera / text-only session."""
    frame = small_jpeg()
    settings = ServerSettings(token=TOKEN, max_sessions=max(open_sessions, 1) + 1, rate_per_s=1000.0, burst=1000)
    tally = _Tally()
    rss: dict[str, float] = {}

    async def one_round(http: httpx.AsyncClient, k: int) -> None:
        sid = await _open(http, tally, {"camera": True, "text": True})
        if sid is None:
            return
        await _call(http, tally, "POST", f"/v1/sessions/{sid}/image?t=0", content=frame)
        await _call(http, tally, "POST", f"/v1/sessions/{sid}/text", json={"text": _TEXTS[k % len(_TEXTS)], "t": 0.5})
        await _call(http, tally, "DELETE", f"/v1/sessions/{sid}")

    async def held(http: httpx.AsyncClient, pid: int, consent: dict[str, bool]) -> dict[str, float]:
        """RSS before and while ``open_sessions`` sessions are open and used once each; then they are deleted."""
        before = process_rss_mb(pid)
        sids = [s for s in [await _open(http, tally, consent) for _ in range(open_sessions)] if s is not None]
        for k, sid in enumerate(sids):
            if consent.get("camera"):
                await _call(http, tally, "POST", f"/v1/sessions/{sid}/image?t=0", content=frame)
            await _call(http, tally, "POST", f"/v1/sessions/{sid}/text", json={"text": _TEXTS[k % len(_TEXTS)]})
        during = process_rss_mb(pid)
        for sid in sids:
            await _call(http, tally, "DELETE", f"/v1/sessions/{sid}")
        return {
            "sessions": len(sids),
            "rss_before_mb": round(before, 1),
            "rss_open_mb": round(during, 1),
            "mb_per_session": round((during - before) / max(len(sids), 1), 2),
        }

    async def run(port: int, pid: int) -> dict[str, object]:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            rss["start_mb"] = process_rss_mb(pid)
            start = time.perf_counter()
            for k in range(rounds):
                await one_round(http, k)
                if k == 0:
                    rss["after_round_1_mb"] = process_rss_mb(pid)
            wall = time.perf_counter() - start
            rss["after_last_round_mb"] = process_rss_mb(pid)
            camera = await held(http, pid, {"camera": True, "text": True})
            text = await held(http, pid, {"text": True})
        return {"rounds_s": round(wall, 1), "camera_sessions": camera, "text_sessions": text}

    with serving_process(settings) as (port, pid):
        out = asyncio.run(run(port, pid))
    first, last = rss.get("after_round_1_mb", 0.0), rss.get("after_last_round_mb", 0.0)
    return {
        "bench": "serve-leak",
        "rounds": rounds,
        "frame_bytes": len(frame),
        "rss_start_mb": round(rss.get("start_mb", 0.0), 1),
        "rss_after_round_1_mb": round(first, 1),
        "rss_after_last_round_mb": round(last, 1),
        "rss_growth_pct": round(100 * (last - first) / first, 2) if first else 0.0,
        **out,
        "status_counts": tally.counts(),
        "errors": tally.errors,
    }


def bench_text_load(sessions: int = 64, seconds: float = 60.0) -> dict[str, object]:
    """``sessions`` text-only sessions, one turn a second each for ``seconds``; turn latency, first vs second half."""
    settings = ServerSettings(token=TOKEN, max_sessions=max(sessions, 1))
    tally = _Tally()
    latencies: list[tuple[float, float]] = []
    late = 0

    async def client(http: httpx.AsyncClient, sid: str, start: float, offset: float) -> None:
        nonlocal late
        for k in range(int(seconds)):
            late += await _wait_until(start + offset + k)
            sent = time.perf_counter()
            body = {"text": _TEXTS[k % len(_TEXTS)]}
            r = await _call(http, tally, "POST", f"/v1/sessions/{sid}/text", json=body)
            if r is not None:
                latencies.append((sent - start, time.perf_counter() - sent))
        await _call(http, tally, "DELETE", f"/v1/sessions/{sid}")

    async def run(port: int) -> float:
        limits = httpx.Limits(max_connections=sessions * 2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as http:
            sids = [s for s in [await _open(http, tally, {"text": True}) for _ in range(sessions)] if s is not None]
            for sid in sids:  # one untimed turn each: model loading is not measured
                await _call(http, tally, "POST", f"/v1/sessions/{sid}/text", json={"text": "hello"})
            start = time.perf_counter()
            # the sessions' turns are spread over each second, as independent users would send them
            await asyncio.gather(*(client(http, sid, start, i / max(len(sids), 1)) for i, sid in enumerate(sids)))
            return time.perf_counter() - start

    with serving_process(settings) as (port, _pid):
        wall = asyncio.run(run(port))
    return {
        "bench": "serve-text",
        "sessions": sessions,
        "seconds": seconds,
        "turns": len(latencies),
        "throughput_tps": round(len(latencies) / wall, 1) if wall else 0.0,
        "target_tps": float(sessions),
        "status_counts": tally.counts(),
        "errors": tally.errors,
        "turn": latency_summary(lat for _, lat in latencies),
        **_halves(latencies, seconds),
        "late_sends": late,
    }

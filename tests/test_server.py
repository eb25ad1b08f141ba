"""The HTTP API: auth, sessions, observations, limits; malformed requests get 4xx, never 5xx."""

import io
import wave

import numpy as np
import pytest
from empathic.agent.transports.server import ServerSettings
from fastapi.testclient import TestClient
from PIL import Image

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(clock, app_factory):
    settings = ServerSettings(
        token=TOKEN,
        rate_per_s=5,
        burst=5,
        session_ttl_s=60,
        max_sessions=3,
        max_image_pixels=320 * 240,
        max_text_chars=200,
    )
    return TestClient(app_factory(settings, clock))


def png(w=64, h=48):
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def wav(seconds=0.5, rate=16000):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(int(seconds * rate), np.int16).tobytes())
    return buf.getvalue()


def new_session(client, **body):
    r = client.post(
        "/v1/sessions", json={"consent": {"camera": True, "microphone": True, "text": True}, **body}, headers=AUTH
    )
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def test_every_route_but_health_needs_the_token(client):
    assert client.get("/v1/health").status_code == 200
    assert client.post("/v1/sessions", json={}).status_code == 401
    assert client.post("/v1/sessions", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/sessions/x", headers={"Authorization": TOKEN}).status_code == 401


def test_text_turn_returns_state_directive_and_reply(client):
    sid = new_session(client)
    r = client.post(
        f"/v1/sessions/{sid}/text", json={"text": "This is ridiculous, it STILL doesn't work!!"}, headers=AUTH
    )
    assert r.status_code == 200
    body = r.json()
    types = [e["type"] for e in body["events"]]
    assert types[:3] == ["state", "turn_end", "directive"] and types[-1] == "response"
    assert "apologize" in body["directive"]["moves"]
    view = client.get(f"/v1/sessions/{sid}", headers=AUTH).json()
    assert view["user_turns"] == 1 and view["state"]["complex"] == "frustration"


def test_consent_is_off_until_given_and_recorded(client):
    r = client.post("/v1/sessions", json={}, headers=AUTH)
    sid = r.json()["session_id"]
    assert r.json()["consent"] == {"camera": False, "microphone": False, "text": False}
    state = client.post(f"/v1/sessions/{sid}/text", json={"text": "I'm furious!!"}, headers=AUTH).json()["state"]
    assert state["confidence"] == 0.0
    r = client.put(f"/v1/sessions/{sid}/consent", json={"channel": "text", "granted": True}, headers=AUTH)
    assert r.json()["consent"]["text"] is True
    state = client.post(f"/v1/sessions/{sid}/text", json={"text": "I'm furious!!"}, headers=AUTH).json()["state"]
    assert state["confidence"] > 0


def test_guarded_deployment_reports_its_notice(client):
    r = client.post(
        "/v1/sessions", json={"compliance": {"deployment_context": "education", "jurisdiction": "EU"}}, headers=AUTH
    )
    assert "Art. 5(1)(f)" in r.json()["compliance_notice"]


def test_image_and_audio_uploads_are_accepted(client):
    sid = new_session(client)
    assert client.post(f"/v1/sessions/{sid}/image?t=0.5", content=png(), headers=AUTH).status_code == 200
    assert client.post(f"/v1/sessions/{sid}/audio?t=1.0", content=wav(), headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("route", "payload", "code"),
    [
        ("image", b"GIF89a not allowed", 415),
        ("image", b"\x89PNG\r\n\x1a\n truncated", 415),
        ("image", b"", 422),
        ("audio", b"RIFF\x00\x00\x00\x00WAVEjunk", 415),
        ("audio", b"hello", 415),
    ],
)
def test_bad_media_get_4xx(client, route, payload, code):
    sid = new_session(client)
    assert client.post(f"/v1/sessions/{sid}/{route}", content=payload, headers=AUTH).status_code == code


def test_limits(client):
    sid = new_session(client)
    assert client.post(f"/v1/sessions/{sid}/image", content=png(640, 480), headers=AUTH).status_code == 415
    assert client.post(f"/v1/sessions/{sid}/text", json={"text": "x" * 201}, headers=AUTH).status_code == 413
    assert client.post(f"/v1/sessions/{sid}/audio", content=wav(seconds=31), headers=AUTH).status_code in (413, 415)


@pytest.mark.parametrize(
    "body",
    [{"text": 5}, {"text": "hi", "t": -1}, {"text": "hi", "speaker": "bot"}, {"txt": "hi"}, [], "x"],
)
def test_malformed_json_is_422(client, body):
    sid = new_session(client)
    assert client.post(f"/v1/sessions/{sid}/text", json=body, headers=AUTH).status_code == 422


def test_rate_limit_per_session(client, clock):
    sid = new_session(client)
    codes = [client.get(f"/v1/sessions/{sid}", headers=AUTH).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    clock.t += 1.0  # five more tokens a second later
    assert client.get(f"/v1/sessions/{sid}", headers=AUTH).status_code == 200


def test_sessions_expire_are_bounded_and_deletable(client, clock):
    sids = [new_session(client) for _ in range(3)]
    assert client.post("/v1/sessions", json={}, headers=AUTH).status_code == 429
    assert client.delete(f"/v1/sessions/{sids[0]}", headers=AUTH).status_code == 204
    assert client.get(f"/v1/sessions/{sids[0]}", headers=AUTH).status_code == 404
    assert client.delete(f"/v1/sessions/{sids[0]}", headers=AUTH).status_code == 404
    clock.t += 61
    assert client.get(f"/v1/sessions/{sids[1]}", headers=AUTH).status_code == 404
    assert client.app.state.store.sessions == {}


def test_openapi_documents_the_routes(client):
    assert client.get("/openapi.json").status_code == 401
    paths = client.get("/openapi.json", headers=AUTH).json()["paths"]
    assert {"/v1/sessions", "/v1/sessions/{sid}/text", "/v1/sessions/{sid}/image", "/v1/sessions/{sid}/audio"} <= set(
        paths
    )


def test_serve_bench_over_real_loopback_http():
    from empathic.tooling.bench.serve import bench_serve

    out = bench_serve(sessions=2, fps=4, seconds=1.0)
    assert out["requests"] == 8 and out["status_counts"] == {"200": 8}
    assert out["first_half"]["p50_ms"] > 0 and out["second_half"]["p95_ms"] > 0

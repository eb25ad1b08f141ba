"""Issue 14: what a red team sent to ``empathic serve``; each answer is a 4xx (or a generic 500), never a leak."""

import gc
import logging
import shutil
import subprocess
import time
import weakref

import pytest
from empathic.agent.session.build import preload
from empathic.agent.session.settings import Settings
from empathic.agent.transports.server import Gate, ServerSettings, SessionStore, create_app
from empathic.perception.face import BodyPerceiver, FacePerceiver
from empathic.perception.face.body import shared_pose
from empathic.perception.face.perceiver import shared_face_models
from empathic.perception.text.minilm import MiniLMTextPerceiver
from fastapi.testclient import TestClient

from tests.test_server import png, wav

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}


@pytest.fixture
def client(app_factory):
    settings = ServerSettings(token=TOKEN, max_json_bytes=1024, max_audio_seconds=2.0)
    return TestClient(app_factory(settings, time.monotonic))


@pytest.fixture
def sid(client):
    r = client.post("/v1/sessions", json={"consent": {"camera": True, "microphone": True, "text": True}}, headers=AUTH)
    return r.json()["session_id"]


class Unread:
    """A request body that records whether anything read it."""

    def __init__(self, size: int):
        self.size = size
        self.consumed = 0

    def __iter__(self):
        for _ in range(self.size // 65536):
            self.consumed += 65536
            yield b"x" * 65536


def test_unauthenticated_body_is_refused_before_it_is_read(client):
    body = Unread(4 * 1024 * 1024)
    r = client.post("/v1/sessions/x/text", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and body.consumed == 0  # receive() was never called
    assert client.post("/v1/sessions", content=b"{" * 5000).status_code == 401


def test_bodies_over_the_route_cap_are_413_declared_or_streamed(client, sid):
    declared = client.post(f"/v1/sessions/{sid}/text", content=b"x" * 2048, headers=JSON)
    streamed = client.post(f"/v1/sessions/{sid}/text", content=Unread(4 * 65536), headers=JSON)
    assert declared.status_code == 413 and streamed.status_code == 413
    assert client.post("/v1/sessions", content=b"[" * 1500, headers=JSON).status_code == 413


def test_media_routes_get_their_own_caps():
    app = create_app(ServerSettings(token=TOKEN, max_image_bytes=1000, max_audio_bytes=5000))
    gate = Gate(app, app.state.store.settings)
    assert gate.limit("/v1/sessions/abc/image") == 1000 and gate.limit("/v1/sessions/abc/audio") == 5000
    assert gate.limit("/v1/sessions/abc/text") == 64 * 1024 and gate.limit("/v1/sessions/abc/image/x") == 64 * 1024


@pytest.mark.parametrize("profile", ["/etc/hostname", "/no/such/file.yaml", "../policies/profiles/tutoring.yaml"])
def test_profiles_are_shipped_names_only_and_no_oracle(client, profile):
    r = client.post("/v1/sessions", json={"profile": profile}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("profile must be one of [") and profile not in r.text


def test_shipped_profile_by_name(client):
    r = client.post("/v1/sessions", json={"profile": "tutoring"}, headers=AUTH)
    assert r.status_code == 201 and r.json()["profile"] == "tutoring"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "hi", "t": NaN}',
        b'{"text": "hi", "t": Infinity}',
        b'{"text": "hi", "t": -Infinity}',
        b'{"text": "a\\ud800b"}',
        b'{"text": "hi", "t": 1e999}',
    ],
)
def test_nan_infinity_and_lone_surrogates_are_422(client, sid, raw):
    assert client.post(f"/v1/sessions/{sid}/text", content=raw, headers=JSON).status_code == 422


def test_deeply_nested_json_is_422():
    client = TestClient(create_app(ServerSettings(token=TOKEN)))
    assert client.post("/v1/sessions", content=b"[" * 60000 + b"]" * 60000, headers=JSON).status_code == 413
    assert client.post("/v1/sessions", content=b"[" * 30000 + b"]" * 30000, headers=JSON).status_code == 422


def test_lone_surrogate_profile_is_422(client):
    assert client.post("/v1/sessions", content=b'{"profile": "\\udfff"}', headers=JSON).status_code == 422


@pytest.mark.parametrize("t", ["inf", "-inf", "nan", "Infinity", "%ED%A0%80"])
def test_bad_media_time_query_is_422(client, sid, t):
    assert client.post(f"/v1/sessions/{sid}/image?t={t}", content=b"\x89PNG", headers=AUTH).status_code == 422


def test_validation_errors_never_echo_values(client, sid):
    r = client.post(
        f"/v1/sessions/{sid}/text", json={"text": "a@example.com", "speaker": "me@example.com"}, headers=AUTH
    )
    assert r.status_code == 422 and "example.com" not in r.text


def test_server_errors_are_generic_and_log_no_values(client, sid, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("person@example.com said something")

    monkeypatch.setattr(client.app.state.store, "observe", boom)
    with caplog.at_level(logging.INFO, logger="empathic.server"):
        r = client.post(f"/v1/sessions/{sid}/text", json={"text": "person@example.com"}, headers=AUTH)
    assert r.status_code == 500 and r.json() == {"detail": "internal error"}
    assert "RuntimeError" in caplog.text and "example.com" not in caplog.text
    assert all(rec.exc_info is None for rec in caplog.records)


def test_docs_need_the_token(client):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=AUTH).status_code == 200


def sox(tmp_path, name: str, seconds: float, *fmt: str) -> bytes:
    out = tmp_path / name
    subprocess.run(["sox", "-n", *fmt, "-r", "16000", str(out), "synth", str(seconds), "sine", "440"], check=True)
    return out.read_bytes()


needs_sox = pytest.mark.skipif(not (shutil.which("sox") and shutil.which("ffmpeg")), reason="needs sox and ffmpeg")


@needs_sox
@pytest.mark.parametrize("fmt", [("-b", "24", "-c", "1"), ("-b", "16", "-c", "4")])
def test_extensible_wav_from_sox_is_accepted(client, sid, tmp_path, fmt):
    data = sox(tmp_path, "x.wav", 0.5, *fmt)
    assert data[20:22] == b"\xfe\xff"  # WAVE_FORMAT_EXTENSIBLE
    assert client.post(f"/v1/sessions/{sid}/audio", content=data, headers=AUTH).status_code == 200


@needs_sox
@pytest.mark.parametrize("name", ["long.flac", "long.ogg", "long.wav"])
def test_long_audio_is_refused_in_every_format(client, sid, tmp_path, name):
    data = wav(3.0) if name.endswith(".wav") else sox(tmp_path, name, 3.0, "-c", "1")
    r = client.post(f"/v1/sessions/{sid}/audio", content=data, headers=AUTH)
    assert r.status_code == 415 and "longer than 2.0 s" in r.text


@needs_sox
def test_ffmpeg_errors_are_summarised(client, sid):
    r = client.post(f"/v1/sessions/{sid}/audio", content=b"OggS" + bytes(range(256)) * 8, headers=AUTH)
    assert r.status_code == 415 and r.json()["detail"].startswith("not decodable audio") and "0x" not in r.text


def test_serve_never_prints_a_given_token(monkeypatch, capsys):
    import uvicorn
    from empathic.ui.cli import main

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    assert main(["serve", "--token", "short-secret"]) == 2
    assert main(["serve", "--token", "a-long-enough-secret-value"]) == 0
    out = capsys.readouterr()
    assert "short-secret" not in out.err + out.out and "a-long-enough-secret" not in out.err + out.out
    assert "16 characters" in out.err


def test_lexicon_text_analysis_runs_off_the_event_loop(monkeypatch):
    import asyncio
    import threading

    from empathic.perception import TextTurn
    from empathic.perception.text import LexiconTextPerceiver

    perceiver = LexiconTextPerceiver()
    threads = []
    estimate = perceiver.estimate
    monkeypatch.setattr(
        perceiver, "estimate", lambda turn: threads.append(threading.current_thread()) or estimate(turn)
    )
    assert asyncio.run(perceiver.perceive(TextTurn(0.0, "I'm furious 😡"))) is not None
    assert threads and threads[0] is not threading.main_thread()


def test_limits_bench_over_real_loopback_http():
    from empathic.tooling.bench.serve import bench_limits

    out = bench_limits(body_mb=2, turns=1)
    assert {r["status"] for r in out["refusals"].values()} == {"401", "413"}
    assert out["turn_status_counts"] == {"200": 1} and out["health"]["n"] >= 1


def test_sessions_share_models_and_a_deleted_session_is_freed(client):
    store = client.app.state.store
    if not isinstance(store, SessionStore):
        pytest.skip("this looks inside one process; on Ray the sessions live in the shard actors")
    consent = {"consent": {"camera": True, "text": True}}
    sids = [client.post("/v1/sessions", json=consent, headers=AUTH).json()["session_id"] for _ in range(2)]
    for sid in sids:  # used once each: models load, and each session keeps its own person
        assert client.post(f"/v1/sessions/{sid}/image?t=0", content=png(), headers=AUTH).status_code == 200
        assert client.post(f"/v1/sessions/{sid}/text", json={"text": "This is so annoying."}, headers=AUTH).is_success
    first, second = (store.sessions[s].host.session for s in sids)
    models = [{type(p): p for p in s.perceivers} for s in (first, second)]
    assert models[0][FacePerceiver].models is models[1][FacePerceiver].models
    assert models[0][BodyPerceiver].pose is models[1][BodyPerceiver].pose
    assert models[0][FacePerceiver] is not models[1][FacePerceiver]
    text = type(first.perceivers[0])
    if text is MiniLMTextPerceiver:  # the lexicon fallback has no model to share
        assert models[0][text].reader is models[1][text].reader
        assert models[0][text]._context is not models[1][text]._context and len(models[0][text]._context) == 1
    gone = weakref.ref(first)
    del first, second, models
    assert client.delete(f"/v1/sessions/{sids[0]}", headers=AUTH).status_code == 204
    gc.collect()
    assert gone() is None  # nothing (a model, a batching worker, a cache) still holds the deleted session


def test_preload_loads_the_shared_models_before_any_session():
    shared_face_models.cache_clear()
    shared_pose.cache_clear()
    preload(Settings(voice=False))
    face, pose = shared_face_models(), shared_pose()
    assert face.detector._detector is not None and face.mesher._mesh is not None and face.classifier._interp is not None
    assert pose._pose is not None
    assert FacePerceiver().models is face and BodyPerceiver().pose is pose


def test_preload_loads_the_chat_model_and_skips_a_missing_one(monkeypatch, caplog):
    from empathic.agent.respond import llm_config
    from empathic.perception.errors import ModelNotFound
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    loaded = []
    monkeypatch.setattr(
        llm_config, "build_chat_model", lambda s: loaded.append(s) or FakeListChatModel(responses=["ok"])
    )
    settings = Settings(voice=False, face=False, body=False, responder="llm")
    preload(settings)
    assert loaded == [settings.llm]  # loaded before any session, not by the first one

    def missing(s):
        raise ModelNotFound("smollm2-135m-instruct", "/nowhere")

    monkeypatch.setattr(llm_config, "build_chat_model", missing)
    with caplog.at_level(logging.WARNING):
        preload(settings)  # the server still starts
    assert "chat model not preloaded: ModelNotFound" in caplog.text

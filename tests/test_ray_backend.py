"""Issue 16: the Ray backend's own promises: sessions stay put and in order, a lost shard loses only its sessions
(with a retryable 503), batched embeddings equal unbatched ones, the Serve ingress is the same API, and the core
runs (and says what to install) without the extra. The HTTP suite itself runs on both backends (tests/conftest.py)."""

import asyncio
import itertools
import shutil
import sys
import time

import httpx
import numpy as np
import pytest
from empathic.agent.transports.ray_backend import RayOptions, RaySessions, require_ray, shard_actors, stop_shards
from empathic.agent.transports.server import CreateSession, ServerSettings, create_app
from empathic.perception import MissingDependency, TextTurn
from empathic.tooling.bench.asr import speak, word_accuracy
from empathic.ui.cli import main
from fastapi.testclient import TestClient

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPOKEN = "I have been waiting for an hour and nobody answers the phone."
TEXT = CreateSession.model_validate({"consent": {"text": True}})


def test_without_the_extra_the_ray_backend_names_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "ray.serve", None)
    with pytest.raises(MissingDependency, match=r"empathic\[ray\]"):
        require_ray()
    assert main(["serve", "--backend", "ray", "--token", TOKEN]) == 2
    assert "pip install 'empathic[ray]'" in capsys.readouterr().err


@pytest.fixture
def shards(ray_cluster, request):
    """Two fresh session shards (on the two virtual nodes) over the shared text-embedding deployment."""
    text, _port = ray_cluster
    options = RayOptions(name=f"t-{request.node.name[5:20].replace('_', '-')}", shards=2, shard_cpus=0)
    settings = ServerSettings(token=TOKEN, rate_per_s=1000, burst=1000)
    yield settings, shard_actors(settings, options, text)
    stop_shards(options)


def test_no_session_is_processed_out_of_order(shards):
    """Turns fired together are processed one at a time in the order sent: each is stamped with the time its
    processing began (the shard's clock only moves forward), so the stamps rise in send order."""
    settings, actors = shards
    tick = itertools.count(1).__next__  # every call reads a later time
    store = RaySessions(settings, lambda: float(tick()), actors)

    async def run() -> tuple[list[str], list[list[float]]]:
        sids = [(await store.open(TEXT)).session_id for _ in range(4)]
        sends = [store.observe(sid, TextTurn(0.0, f"turn {k} of {sid}"), None) for k in range(10) for sid in sids]
        results = await asyncio.gather(*sends)  # submitted in this order, awaited together
        times = {sid: [] for sid in sids}
        for (_k, sid), result in zip(itertools.product(range(10), sids), results, strict=True):
            (end,) = [e for e in result.events if e["type"] == "turn_end"]
            times[sid].append(end["t"])
        return sids, list(times.values())

    sids, times = asyncio.run(run())
    assert len({store.shard(sid) for sid in sids}) == 2  # the sessions spread over both shards
    for stamps in times:
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_a_lost_shard_loses_only_its_sessions_with_a_retryable_503(shards):
    ray = pytest.importorskip("ray")
    settings, actors = shards
    client = TestClient(create_app(settings, time.time, RaySessions(settings, time.time, actors)))
    sids = [client.post("/v1/sessions", json={"consent": {"text": True}}, headers=AUTH).json()["session_id"]]
    sids.append(client.post("/v1/sessions", json={"consent": {"text": True}}, headers=AUTH).json()["session_id"])
    assert {sid.split("-")[0] for sid in sids} == {"0", "1"}
    ray.kill(actors[0], no_restart=False)  # the actor dies and is restarted, empty
    lost = client.post(f"/v1/sessions/{sids[0]}/text", json={"text": "still there?"}, headers=AUTH)
    assert lost.status_code == 503 and lost.headers["Retry-After"] == "1"
    assert client.post(f"/v1/sessions/{sids[1]}/text", json={"text": "fine"}, headers=AUTH).status_code == 200
    deadline = time.monotonic() + 120
    while client.get(f"/v1/sessions/{sids[0]}", headers=AUTH).status_code == 503 and time.monotonic() < deadline:
        r = client.post("/v1/sessions", json={}, headers=AUTH)  # the restarted shard takes new sessions again
        if r.status_code == 201 and r.json()["session_id"].startswith("0-"):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the restarted shard took no new session")
    assert client.get(f"/v1/sessions/{sids[0]}", headers=AUTH).status_code == 503  # gone, and said so


def test_batched_embeddings_equal_one_at_a_time(ray_cluster):
    from empathic.perception.text.embedder import MiniLMEmbedder
    from empathic.perception.text.minilm import heads_adapter

    text, _port = ray_cluster
    texts = ["I'm furious!!", "thanks, that helped", "hm", "Why does this keep breaking every single time?"] * 4

    async def together() -> list[np.ndarray]:
        return await asyncio.gather(*(text.encode.remote((t,), (3, 6)) for t in texts))

    local = MiniLMEmbedder(adapter=heads_adapter()).encode(texts, layers=(3, 6))  # what the heads were trained on
    np.testing.assert_allclose(np.vstack(asyncio.run(together())), local, atol=2e-5)


def spoken_wav(text: str) -> bytes:
    """16-bit WAV of ``text`` by espeak-ng with silence around it (skips without espeak-ng)."""
    import io
    import wave

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(speak([text], pause_s=1.5), -1, 1) * 32767).astype(np.int16).tobytes())
    return buf.getvalue()


def test_the_serve_ingress_is_the_same_api(ray_cluster):
    """The application ``empathic serve --backend ray`` runs, through Serve's own HTTP proxy; speech is transcribed
    on the speech-recognition deployment, not in the session's shard."""
    from empathic.agent.transports.ray_backend import application
    from empathic.agent.transports.ray_perception import ServedAsr
    from empathic.perception.voice.asr import shared_backend
    from ray import serve

    _text, port = ray_cluster
    options = RayOptions(
        name="test-ingress", shards=1, shard_cpus=0, api_cpus=0, text_cpus=0.25, speech_cpus=0, speech_replicas=1
    )
    serve.run(application(ServerSettings(token=TOKEN), options), name=options.name, route_prefix="/")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            assert http.get("/v1/health").json() == {"status": "ok"}
            assert http.get("/openapi.json").status_code == 401
            assert "/v1/sessions/{sid}/text" in http.get("/openapi.json", headers=AUTH).json()["paths"]
            sid = http.post("/v1/sessions", json={"consent": {"text": True}}, headers=AUTH).json()["session_id"]
            r = http.post(f"/v1/sessions/{sid}/text", json={"text": "This is ridiculous!!"}, headers=AUTH)
            assert r.status_code == 200 and "apologize" in r.json()["directive"]["moves"]
            assert http.delete(f"/v1/sessions/{sid}", headers=AUTH).status_code == 204
            consent = {"consent": {"text": True, "microphone": True}}
            sid = http.post("/v1/sessions", json=consent, headers=AUTH).json()["session_id"]
            heard = http.post(f"/v1/sessions/{sid}/audio?t=0", content=spoken_wav(SPOKEN), headers=AUTH)
            assert heard.status_code == 200
            (turn,) = [e for e in heard.json()["events"] if e["type"] == "turn_end"]
            assert word_accuracy(SPOKEN, turn["text"]) >= 0.7
        speech = serve.get_deployment_handle("speech-recognition", app_name=options.name)
        audio = speak([SPOKEN], pause_s=0.5)
        served = ServedAsr(speech, "faster-whisper", None).transcribe(audio)
        local = shared_backend("faster-whisper").transcribe(audio)
        assert served.text == local.text
        cosine = served.embedding @ local.embedding / np.linalg.norm(served.embedding) / np.linalg.norm(local.embedding)
        assert cosine > 0.999  # int8 kernels on other thread counts differ in the last digits
    finally:
        serve.delete(options.name)
        stop_shards(options)


def test_the_kuberay_manifest_names_a_real_builder_and_valid_options():
    import importlib
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[1] / "examples" / "kuberay-rayservice.yaml").read_text())
    (app,) = yaml.safe_load(manifest["spec"]["serveConfigV2"])["applications"]
    module, _, name = app["import_path"].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    assert RayOptions.model_validate(app["args"]).shards == app["args"]["shards"]

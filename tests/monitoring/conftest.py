from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devinsider_gateway import cli, descriptors
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.http import request

from .support import DESCRIPTOR_SET, Known, deployed_services, parse_exposition, promtool, scrape


@pytest.fixture(scope="session")
def tool() -> str:
    return promtool()


@pytest.fixture(scope="session")
def envoy_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Known]:
    """The samples a real Envoy serves on the edge's stats listener, on the config the generator writes for
    the deployed services with Keycloak's remote JWKS (as in Kubernetes); nothing listens behind it, so the
    services are unhealthy and the JWKS fetch fails, which is all the more stats."""
    work: Path = tmp_path_factory.mktemp("edge-metrics")
    deployed = deployed_services()
    services = sorted(name for name in descriptors.load(DESCRIPTOR_SET).services if name.split(".")[1] in deployed)
    assert len(services) == len(deployed)
    port, admin, metrics_port, nobody = (envoy.free_port() for _ in range(4))
    config = work / "envoy.yaml"
    upstreams = [arg for service in services for arg in ("--upstream", f"{service}=127.0.0.1:{nobody}")]
    cli.main(
        [
            *("--descriptor-set", str(DESCRIPTOR_SET), *upstreams, "--out", str(config), "--no-docs"),
            *("--port", str(port), "--admin-port", str(admin), "--listen-address", "127.0.0.1"),
            *("--metrics-port", str(metrics_port)),
            *("--jwt-issuer", "http://127.0.0.1/realms/devinsider"),
            *("--jwks-url", f"http://127.0.0.1:{nobody}/realms/devinsider/protocol/openid-connect/certs"),
        ]
    )
    running = envoy.start(config, port, admin, work / "envoy.log")
    try:
        request("GET", running.url("/v1/users/me"))  # a client request: the per-request stats exist
        yield parse_exposition(scrape(f"http://127.0.0.1:{metrics_port}/metrics"))
    finally:
        running.stop()

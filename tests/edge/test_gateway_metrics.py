"""Gateway metrics on a real Envoy: the stats listener serves the admin's Prometheus text as /metrics
(and nothing else of the admin); counts and latencies per cluster, gRPC method and gRPC code."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.http import Response, request

from .conftest import SERVICE, Edge, start_edge, stop_edge

CLUSTER = SERVICE.replace(".", "_")


@pytest.fixture(scope="module")
def metered(descriptor_set: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Edge, int]]:
    port = envoy.free_port()
    edge = start_edge(descriptor_set, tmp_path_factory.mktemp("metrics"), extra=["--metrics-port", str(port)])
    yield edge, port
    stop_edge(edge)


def _metrics(port: int) -> str:
    response = request("GET", f"http://127.0.0.1:{port}/metrics")
    assert response.status == 200, response.body
    assert response.headers["content-type"].startswith("text/plain")
    return response.body.decode()


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` whose labels include `labels` (None when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(3))
    return None


def _method(method: str) -> dict[str, str]:
    return {"envoy_cluster_name": CLUSTER, "grpc_service": SERVICE, "grpc_method": method}


def test_metrics_count_calls_by_cluster_method_and_grpc_code(metered: tuple[Edge, int]) -> None:
    edge, port = metered
    token = edge.token("metrics-user")
    for _ in range(3):
        assert request("GET", edge.url("/v1/echo/m1")).status == 200
    ping = request("POST", edge.url("/v1/items/i1:ping"), {}, {"authorization": f"Bearer {token}"})
    assert ping.status == 200, ping.body
    for code, http_status in ((5, 404), (7, 403)):
        failed: Response = request("POST", edge.url(f"/v1/fail/{code}"), {})
        assert failed.status == http_status, failed.body
    assert request("GET", edge.url("/v1/secret")).status == 401  # refused at the edge: not a service call

    text = _metrics(port)
    assert _sample(text, "envoy_cluster_grpc_total", **_method("Echo")) == 3
    assert _sample(text, "envoy_cluster_grpc_success", **_method("Echo")) == 3
    assert _sample(text, "envoy_cluster_grpc", **_method("Echo"), grpc_code="0") == 3
    assert _sample(text, "envoy_cluster_grpc_total", **_method("Ping")) == 1
    assert _sample(text, "envoy_cluster_grpc_total", **_method("Fail")) == 2
    assert _sample(text, "envoy_cluster_grpc_failure", **_method("Fail")) == 2
    assert _sample(text, "envoy_cluster_grpc", **_method("Fail"), grpc_code="5") == 1
    assert _sample(text, "envoy_cluster_grpc", **_method("Fail"), grpc_code="7") == 1
    assert _sample(text, "envoy_cluster_grpc_total", **_method("Secret")) is None
    # Per cluster (= per service): requests and the HTTP class of what the service answered.
    upstream = _sample(text, "envoy_cluster_upstream_rq_xx", envoy_cluster_name=CLUSTER, envoy_response_code_class="2")
    assert upstream is not None and upstream >= 6
    # Per listener: what clients saw, by class (the 401 from the JWT filter, the 404 and 403 from services).
    client_4xx = _sample(
        text, "envoy_http_downstream_rq_xx", envoy_http_conn_manager_prefix="edge", envoy_response_code_class="4"
    )
    assert client_4xx is not None and client_4xx >= 3


def test_latency_histograms_per_method(metered: tuple[Edge, int]) -> None:
    edge, port = metered
    for _ in range(2):
        assert request("GET", edge.url("/v1/echo/latency")).status == 200
    # Histograms reach the admin at Envoy's stats flush (every 5 s).
    deadline = time.monotonic() + 15
    count: float | None = None
    while time.monotonic() < deadline:
        text = _metrics(port)
        count = _sample(text, "envoy_cluster_grpc_upstream_rq_time_count", **_method("Echo"))
        if count and count >= 2:
            break
        time.sleep(0.5)
    assert count is not None and count >= 2
    assert _sample(text, "envoy_cluster_grpc_upstream_rq_time_bucket", **_method("Echo"), le="+Inf") == count
    assert _sample(text, "envoy_cluster_upstream_rq_time_count", envoy_cluster_name=CLUSTER)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/quitquitquit"),
        ("GET", "/quitquitquit"),
        ("POST", "/healthcheck/fail"),
        ("GET", "/config_dump"),
        ("GET", "/stats"),
        ("GET", "/stats/prometheus"),
        ("GET", "/ready"),
        ("GET", "/"),
        ("POST", "/metrics"),
        ("GET", "/metrics/../quitquitquit"),
        ("GET", "//quitquitquit"),
        ("GET", "/metrics%2F..%2Fquitquitquit"),
    ],
)
def test_nothing_else_of_the_admin_is_reachable_on_the_stats_port(
    metered: tuple[Edge, int], method: str, path: str
) -> None:
    edge, port = metered
    response = request(method, f"http://127.0.0.1:{port}{path}")
    assert response.status in {400, 404}, (path, response.status, response.body[:200])
    assert b"envoy" not in response.body.lower()
    # Envoy is still up and serving (quitquitquit never reached the admin).
    assert edge.envoy.process.poll() is None
    assert request("GET", edge.url("/v1/echo/alive")).status == 200


def test_metrics_accepts_the_admin_query_parameters(metered: tuple[Edge, int]) -> None:
    _, port = metered
    response = request("GET", f"http://127.0.0.1:{port}/metrics?usedonly&filter=cluster%5C.edgetest")
    assert response.status == 200
    names = {line.split("{")[0].split(" ")[0] for line in response.body.decode().splitlines() if line[:1] != "#"}
    assert names and all(name.startswith("envoy_cluster_") for name in names if name)


def test_the_admin_itself_stays_on_loopback(metered: tuple[Edge, int]) -> None:
    edge, _ = metered
    assert "LIVE" in edge.envoy.admin("/ready")

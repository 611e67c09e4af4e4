"""What the edge adds around transcoding: CORS, JWT, webhook rate limit, admin, access log."""

from __future__ import annotations

import json
import time

from devinsider_gateway.testing.http import request

from .conftest import CORS_ORIGIN, Edge

PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type"}


def test_preflight_from_an_allowed_origin_is_answered(edge: Edge) -> None:
    response = request("OPTIONS", edge.url("/v1/echo"), headers={"origin": CORS_ORIGIN, **PREFLIGHT})
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == CORS_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"]


def test_preflight_from_another_origin_gets_no_cors_headers(edge: Edge) -> None:
    response = request("OPTIONS", edge.url("/v1/echo"), headers={"origin": "https://evil.example", **PREFLIGHT})
    assert "access-control-allow-origin" not in response.headers


def test_simple_request_exposes_the_request_id_to_the_allowed_origin(edge: Edge) -> None:
    response = request("GET", edge.url("/v1/echo/c"), headers={"origin": CORS_ORIGIN})
    assert response.headers["access-control-allow-origin"] == CORS_ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"]


def test_authenticated_rpc_needs_a_token_at_the_edge(edge: Edge) -> None:
    missing = request("GET", edge.url("/v1/secret"))
    assert missing.status == 401
    assert missing.json()["code"] == 16
    forged = request("GET", edge.url("/v1/secret"), headers={"authorization": "Bearer abc.def.ghi"})
    assert forged.status == 401
    good = request("GET", edge.url("/v1/secret"), headers={"authorization": f"Bearer {edge.token('ada')}"})
    assert good.status == 200
    # The token is forwarded: the services verify it again.
    assert good.json()["headers"]["authorization"].startswith("Bearer ")


def test_public_rpc_passes_without_a_token_but_not_with_a_bad_one(edge: Edge) -> None:
    assert request("GET", edge.url("/v1/echo/p")).status == 200
    assert request("GET", edge.url("/v1/echo/p"), headers={"authorization": "Bearer nope"}).status == 401


def test_webhook_prefix_is_rate_limited(edge: Edge) -> None:
    statuses = [request("GET", edge.url("/v1/files/limited/x")).status for _ in range(12)]
    assert statuses[0] == 200
    assert 429 in statuses  # 3 a second in the fixture
    assert request("GET", edge.url("/v1/files/other")).status == 200  # other paths are not limited


def test_admin_serves_prometheus_stats_on_loopback(edge: Edge) -> None:
    request("GET", edge.url("/v1/echo/m"))
    stats = edge.envoy.admin("/stats/prometheus")
    assert "envoy_cluster_upstream_rq_total" in stats


def _wait_for_log(edge: Edge, request_id: str) -> list[dict[str, object]]:
    """Envoy flushes its access log every 200 ms (testing.envoy.FLAGS): wait for the line."""
    deadline = time.monotonic() + 15
    while True:
        lines = [json.loads(line) for line in edge.envoy.log.read_text().splitlines() if line.startswith("{")]
        found = [line for line in lines if line.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_access_log_has_method_path_status_grpc_status_and_request_id(edge: Edge) -> None:
    response = request("GET", edge.url("/v1/echo/logged"), headers={"x-request-id": "log-me-1"})
    assert response.status == 200
    [entry] = _wait_for_log(edge, "log-me-1")
    assert (entry["method"], entry["path"]) == ("GET", "/v1/echo/logged")
    assert entry["rpc"] == "/edgetest.v1.EchoService/Echo"
    assert (entry["status"], entry["grpc_status"]) == (200, "OK")
    assert isinstance(entry["duration_ms"], int)

"""What the edge adds around transcoding: CORS, JWT, webhook rate limits, admin, access log."""

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


def test_preflight_from_another_origin_is_refused_saying_which_origins_are_allowed(edge: Edge) -> None:
    response = request("OPTIONS", edge.url("/v1/echo"), headers={"origin": "https://evil.example", **PREFLIGHT})
    assert "access-control-allow-origin" not in response.headers
    assert response.status == 403
    status = response.json()
    assert status["code"] == 7
    assert "https://evil.example is not allowed" in status["message"]
    assert f"allowed: {CORS_ORIGIN}" in status["message"] and "--cors-origin" in status["message"]
    # A plain OPTIONS (no preflight) and the allowed origin's preflight are not touched by that reply.
    assert request("OPTIONS", edge.url("/v1/echo")).status == 404
    assert request("OPTIONS", edge.url("/v1/echo"), headers={"origin": CORS_ORIGIN, **PREFLIGHT}).status == 200


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


def _statuses(edge: Edge, path: str, count: int, source: str, headers: dict[str, str] | None = None) -> list[int]:
    return [request("GET", edge.url(path), headers=headers, source=source).status for _ in range(count)]


def test_webhook_prefix_is_rate_limited(edge: Edge) -> None:
    statuses = _statuses(edge, "/v1/files/limited/x", 12, "127.0.0.4")
    assert statuses[0] == 200
    assert 429 in statuses  # 3 a second in the fixture
    assert request("GET", edge.url("/v1/files/other")).status == 200  # other paths are not limited


def test_each_client_address_has_its_own_bucket_whatever_x_forwarded_for_says(edge: Edge) -> None:
    """A flood from one address (claiming, in X-Forwarded-For, to come from the other) empties only its
    own bucket: the other address is still served."""
    spoofed = {"x-forwarded-for": "127.0.0.2"}
    flood = _statuses(edge, "/v1/files/limited/flood", 15, "127.0.0.3", spoofed)
    assert flood.count(429) >= 5, flood  # 3 a second in the fixture
    assert _statuses(edge, "/v1/files/limited/provider", 3, "127.0.0.2") == [200, 200, 200]
    # Each prefix has buckets of its own: the flooded address is still served on the other webhook.
    assert _statuses(edge, "/v1/files/limited-too/x", 3, "127.0.0.3") == [200, 200, 200]


def test_a_clients_envoy_headers_are_ignored(edge: Edge) -> None:
    """Envoy honours x-envoy-upstream-rq-timeout-ms (and retries, ...) only from internal clients: no
    client is internal, loopback included, so a client cannot shorten or stretch a route's timeout."""
    response = request("GET", edge.url("/v1/sleep?seconds=0.2"), headers={"x-envoy-upstream-rq-timeout-ms": "1"})
    assert response.status == 200, response.body


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

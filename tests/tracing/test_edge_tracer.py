"""The edge's OpenTelemetry tracer (`devinsider-gateway-config --otlp-endpoint`): configs Envoy accepts, and a
real Envoy in front of an echo backend (which answers with the metadata it received) sending its spans to an
OTLP collector in this test. Off by default: then a client's `traceparent` reaches the service unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devinsider_common.testing.otlp import Collector, ReceivedSpan
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.echo import EchoBackend
from devinsider_gateway.testing.http import request

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR_SET = ROOT / "gen" / "devinsider.binpb"
USER = "devinsider.user.v1.UserService"
ECHO = "edgetest.v1.EchoService"
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"


def _generate(tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "envoy.yaml"
    cli.main(
        ["--descriptor-set", str(DESCRIPTOR_SET), "--upstream", f"{USER}=127.0.0.1:50051", "--out", str(out), *extra]
    )
    result = envoy.validate(out)
    assert result.returncode == 0, result.stdout + result.stderr
    config: dict[str, Any] = yaml.safe_load(out.read_text())
    return config


def _manager(config: dict[str, Any]) -> dict[str, Any]:
    manager: dict[str, Any] = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]
    return manager


def _clusters(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cluster["name"]: cluster for cluster in config["static_resources"]["clusters"]}


def test_no_tracer_by_default(tmp_path: Path) -> None:
    config = _generate(tmp_path, "--no-docs")
    assert "tracing" not in _manager(config) and "request_id_extension" not in _manager(config)
    assert "opentelemetry_collector" not in _clusters(config)


def test_the_tracer_sends_to_the_collector_cluster(tmp_path: Path) -> None:
    config = _generate(
        tmp_path,
        "--no-docs",
        "--otlp-endpoint",
        "otel-collector:4317",
        "--trace-sampling",
        "10",
        "--trace-service-name",
        "edge-eu",
    )
    tracing = _manager(config)["tracing"]
    provider = tracing["provider"]
    assert provider["name"] == "envoy.tracers.opentelemetry"
    assert provider["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"] == "opentelemetry_collector"
    assert provider["typed_config"]["service_name"] == "edge-eu"
    assert tracing["random_sampling"] == {"value": 10.0} and tracing["spawn_upstream_span"] is True
    assert _manager(config)["request_id_extension"]["typed_config"]["pack_trace_reason"] is False
    collector = _clusters(config)["opentelemetry_collector"]
    assert collector["type"] == "STRICT_DNS" and "transport_socket" not in collector
    address = collector["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert address["socket_address"] == {"address": "otel-collector", "port_value": 4317}
    assert "http2_protocol_options" in str(collector["typed_extension_protocol_options"])


def test_an_https_collector_is_reached_over_tls(tmp_path: Path) -> None:
    config = _generate(tmp_path, "--no-docs", "--otlp-endpoint", "https://10.1.2.3:4317")
    collector = _clusters(config)["opentelemetry_collector"]
    assert collector["type"] == "STATIC"
    assert collector["transport_socket"]["typed_config"]["sni"] == "10.1.2.3"


@pytest.mark.parametrize("endpoint", ["otel-collector", "grpc://c:4317", "c:port"])
def test_a_malformed_endpoint_is_refused(tmp_path: Path, endpoint: str) -> None:
    with pytest.raises(SystemExit, match="--otlp-endpoint"):
        cli.main(
            [
                *("--descriptor-set", str(DESCRIPTOR_SET), "--upstream", f"{USER}=127.0.0.1:50051"),
                *("--out", str(tmp_path / "envoy.yaml"), "--no-docs", "--otlp-endpoint", endpoint),
            ]
        )


# A real Envoy in front of the echo backend.


@pytest.fixture(scope="module")
def echo_descriptors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("edge-protos") / "echo.binpb"
    includes = [ROOT / "tests" / "edge" / "protos", ROOT / "protos"]
    return envoy.compile_descriptor_set(["edgetest/v1/echo.proto"], includes, out)


def _edge(descriptors: Path, workdir: Path, backend: EchoBackend, *extra: str) -> envoy.RunningEnvoy:
    port, admin = envoy.free_port(), envoy.free_port()
    config = workdir / "envoy.yaml"
    cli.main(
        [
            *("--descriptor-set", str(descriptors), "--upstream", f"{ECHO}=127.0.0.1:{backend.port}", "--no-docs"),
            *("--port", str(port), "--admin-port", str(admin), "--listen-address", "127.0.0.1"),
            *("--out", str(config), "--health-check-interval", "0.3", *extra),
        ]
    )
    return envoy.start(config, port, admin, workdir / "envoy.log")


@pytest.fixture(scope="module")
def backend(echo_descriptors: Path) -> Iterator[EchoBackend]:
    running = EchoBackend(echo_descriptors, ECHO, "backend-0")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def traced_edge(
    echo_descriptors: Path, backend: EchoBackend, collector: Collector, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[envoy.RunningEnvoy]:
    running = _edge(
        echo_descriptors, tmp_path_factory.mktemp("traced-edge"), backend, "--otlp-endpoint", collector.endpoint
    )
    yield running
    running.stop()


def _echoed_headers(edge: envoy.RunningEnvoy, headers: dict[str, str]) -> dict[str, str]:
    response = request("GET", edge.url(f"/v1/echo/{uuid.uuid4().hex}"), headers=headers)
    assert response.status == 200, response.body
    echoed: dict[str, str] = response.json()["headers"]
    return echoed


def _parts(traceparent: str) -> tuple[str, str, str]:
    version, trace_id, parent_id, flags = traceparent.split("-")
    assert version == "00"
    return trace_id, parent_id, flags


def test_without_the_tracer_a_clients_traceparent_passes_through(
    echo_descriptors: Path, backend: EchoBackend, tmp_path: Path
) -> None:
    edge = _edge(echo_descriptors, tmp_path, backend)
    try:
        headers = _echoed_headers(edge, {"traceparent": CLIENT_TRACEPARENT, "tracestate": "vendor=1"})
        assert headers["traceparent"] == CLIENT_TRACEPARENT and headers["tracestate"] == "vendor=1"
        assert "traceparent" not in _echoed_headers(edge, {})  # nothing invented either
    finally:
        edge.stop()


def test_the_tracer_starts_a_trace_and_the_service_is_the_child_of_its_upstream_span(
    traced_edge: envoy.RunningEnvoy, collector: Collector
) -> None:
    request_id = str(uuid.uuid4())
    response = request("GET", traced_edge.url("/v1/echo/started"), headers={"x-request-id": request_id})
    assert response.status == 200 and response.headers["x-request-id"] == request_id  # the client's id, as sent
    trace_id, parent_id, flags = _parts(response.json()["headers"]["traceparent"])
    assert flags == "01"

    def both(spans: list[ReceivedSpan]) -> bool:
        return len([s for s in spans if s.trace_id == trace_id]) >= 2

    spans = [s for s in collector.wait_for(both, timeout=20) if s.trace_id == trace_id]
    ingress = next(s for s in spans if not s.parent_span_id)
    upstream = next(s for s in spans if s.parent_span_id == ingress.span_id)
    assert (ingress.kind, upstream.kind) == ("SERVER", "CLIENT")
    assert {ingress.service, upstream.service} == {"edge"}
    assert upstream.span_id == parent_id  # what the service received names Envoy's upstream span
    assert ingress.attributes["guid:x-request-id"] == request_id


def test_the_tracer_continues_a_clients_trace(traced_edge: envoy.RunningEnvoy, collector: Collector) -> None:
    trace_id, parent_id, _ = _parts(_echoed_headers(traced_edge, {"traceparent": CLIENT_TRACEPARENT})["traceparent"])
    assert trace_id == CLIENT_TRACE and parent_id != CLIENT_TRACEPARENT.split("-")[2]
    spans = collector.wait_for(lambda found: any(s.trace_id == CLIENT_TRACE for s in found), timeout=20)
    ingress = next(s for s in spans if s.trace_id == CLIENT_TRACE and s.kind == "SERVER")
    assert ingress.parent_span_id == CLIENT_TRACEPARENT.split("-")[2]

"""Tracing is configured by the standard OTEL_* variables and off without them: no provider, no wrapper, no
instrumentation. With an endpoint, a service process exports over OTLP/gRPC under its own service name (a
child process each: a process has one global tracer provider)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.sdk.trace import sampling
from opentelemetry.trace import SpanKind

from devinsider_common import tracing
from devinsider_common.testing.otlp import Collector


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, []),  # compose and Kubernetes give it empty: off
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console, otlp"}, ["console", "otlp"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, []),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ["otlp"]),
    ],
)
def test_the_exporters_come_from_the_standard_variables_and_none_is_the_default(
    environ: dict[str, str], expected: list[str]
) -> None:
    assert tracing.exporters_from_env(environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
    ],
)
def test_what_cannot_be_served_is_refused_by_name(environ: dict[str, str]) -> None:
    with pytest.raises(tracing.TracingConfigError, match="OTEL_"):
        tracing.exporters_from_env(environ)


@pytest.fixture
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    yield
    tracing.deactivate()


@pytest.mark.usefixtures("no_otel_environment")
def test_off_by_default_nothing_is_wrapped_or_stored() -> None:
    assert tracing.configure("user") is None
    assert tracing.active() is None
    assert tracing.server_interceptors() == []
    channel = grpc.insecure_channel("127.0.0.1:1")
    try:
        assert tracing.intercept_channel(channel) is channel
    finally:
        channel.close()
    assert tracing.current_headers() is None
    with tracing.publish_span("x", "y", "id", "type", {"traceparent": "kept-as-is"}) as headers:
        assert headers == {"traceparent": "kept-as-is"}  # passed through as stored
    with tracing.consumer_span("q", "id", "type", {}, 1) as span:
        assert not span.is_recording()


def test_orphan_client_spans_are_dropped_and_the_rest_left_to_the_configured_sampler() -> None:
    sampler = tracing.SkipOrphanClientSpans(sampling.ALWAYS_ON)
    assert sampler.should_sample(None, 1, "SELECT", SpanKind.CLIENT).decision == sampling.Decision.DROP
    for kind in (SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL):
        assert sampler.should_sample(None, 1, "x", kind).decision == sampling.Decision.RECORD_AND_SAMPLE
    assert "AlwaysOnSampler" in sampler.get_description()


SERVICE_PROCESS = """
import sys
from devinsider_common import tracing
from devinsider_common.startup import configure_tracing

configure_tracing("user", "devinsider-user-service")
provider = tracing.active()
with provider.get_tracer("test").start_as_current_span("work"):
    with provider.get_tracer("test").start_as_current_span("inner"):
        pass
tracing.shutdown()
print(provider.sampler.get_description())
"""


def _run(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", SERVICE_PROCESS],
        env=clean | environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.stop()


def test_an_endpoint_alone_exports_over_otlp_grpc_under_the_service_name(collector: Collector) -> None:
    result = _run({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{collector.endpoint}"})
    assert result.returncode == 0, result.stderr
    spans = collector.wait_for(lambda found: len(found) >= 2, timeout=10)
    assert {(s.name, s.service) for s in spans} == {("work", "user"), ("inner", "user")}
    work, inner = sorted(spans, key=lambda s: s.name != "work")
    assert inner.parent_span_id == work.span_id and inner.trace_id == work.trace_id
    assert "SkipOrphanClientSpans{ParentBased" in result.stdout  # OTEL_TRACES_SAMPLER's default, wrapped


def test_the_standard_service_name_and_sampler_win(collector: Collector) -> None:
    result = _run(
        {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://{collector.endpoint}",
            "OTEL_SERVICE_NAME": "user-eu-1",
            "OTEL_TRACES_SAMPLER": "always_off",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "AlwaysOffSampler" in result.stdout
    assert collector.wait_for(bool, timeout=2) == []  # sampled out


def test_a_protocol_that_cannot_be_served_refuses_the_start_in_one_line() -> None:
    result = _run({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "devinsider-user-service: refusing to start: OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' is not "
        "supported, only grpc (port 4317)"
    ]


def test_a_service_name_is_given_only_when_the_environment_names_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert tracing.service_resource("company").attributes["service.name"] == "company"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes,deployment.environment=prod")
    resource = tracing.service_resource("company")
    assert resource.attributes["service.name"] == "from-attributes"
    assert resource.attributes["deployment.environment"] == "prod"

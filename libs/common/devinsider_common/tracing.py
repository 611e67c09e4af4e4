"""OpenTelemetry tracing, off unless the standard `OTEL_*` variables ask for an exporter.

`configure(service)` (each service process, each WORKERS process: devinsider_common.runtime and .workers)
reads `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER` (`otlp`, `console`, `none`) and the OTLP exporter's own
`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `..._HEADERS`, `..._INSECURE`...; an endpoint alone means `otlp`,
nothing at all means no tracing. Then the process gets an SDK tracer provider (batched export,
`OTEL_BSP_*`) named `OTEL_SERVICE_NAME` or else the service's name, sampled by `OTEL_TRACES_SAMPLER`
(default: parent-based, always on). Without one, every hook below is a no-op costing one global read:
nothing is wrapped or instrumented.

What is traced, once a provider is active when the objects are built:
- gRPC server calls (a SERVER span, its parent the caller's `traceparent`: Envoy, another service) and
  client calls on the `grpc.clients` channels (a CLIENT span, `traceparent` injected), with
  opentelemetry-instrumentation-grpc; health checks and reflection are left out;
- SQL statements of the service's engine (opentelemetry-instrumentation-sqlalchemy) and Redis commands of
  `cache.redis_client` (opentelemetry-instrumentation-redis);
- events: the request's context is stored with its outbox row (`current_headers`); the relay publishes the
  row in an "outbox publish" PRODUCER span whose parent is that stored context and sends its own context
  in the AMQP headers (`publish_span`); a consumer runs the handler in a CONSUMER span whose parent is the
  message's context (`consumer_span`). Explicit W3C propagation over pika: our relay and consumer own
  their pika calls (confirms, retries, dead letters), so no pika instrumentation wraps them.

Database, Redis and gRPC client spans with no parent (the relay's polling, health probes, jobs) are not
sampled: they would be a trace each, every half second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider, sampling
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes

if TYPE_CHECKING:
    import redis
    from sqlalchemy import Engine

log = structlog.get_logger("devinsider.tracing")

# The W3C trace context headers (and baggage): what a row stores and a message carries.
TRACE_HEADERS = ("traceparent", "tracestate", "baggage")
# gRPC services that are not traced: Envoy's health checks alone would be a trace every few seconds.
UNTRACED_SERVICES = (
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
)
EXPORTERS = ("otlp", "console")
# gRPC codes that are the server's fault: the span's status is then ERROR (OpenTelemetry's semantic
# conventions for RPC servers); the others (NOT_FOUND, INVALID_ARGUMENT...) are the caller's.
SERVER_ERROR_CODES = frozenset(
    code.value[0]
    for code in (
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    )
)
_INSTRUMENTATION = "devinsider_common"

_provider: TracerProvider | None = None


class TracingConfigError(ValueError):
    """The OTEL_* variables ask for something this service cannot do (an unknown exporter, OTLP over HTTP)."""


def exporters_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """The exporters the environment asks for (`otlp`, `console`); empty: tracing stays off."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [name.strip().lower() for name in env.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]
    if not names:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        names = ["otlp"] if endpoint else []
    if "none" in names:
        return []
    unknown = sorted(set(names) - set(EXPORTERS))
    if unknown:
        raise TracingConfigError(f"OTEL_TRACES_EXPORTER: unknown exporter {', '.join(unknown)} (known: otlp, console)")
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc"
    if "otlp" in names and protocol.strip().lower() != "grpc":
        raise TracingConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not supported, only grpc (port 4317)")
    return list(dict.fromkeys(names))


class SkipOrphanClientSpans(sampling.Sampler):
    """`delegate`'s decision, except for CLIENT spans without a parent (a query, a Redis command or an
    outgoing call outside any traced work), which are dropped."""

    def __init__(self, delegate: sampling.Sampler) -> None:
        self._delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> sampling.SamplingResult:
        if kind == SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return sampling.SamplingResult(sampling.Decision.DROP)
        return self._delegate.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"SkipOrphanClientSpans{{{self._delegate.get_description()}}}"


def service_resource(service: str) -> Resource:
    """The SDK's resource (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME), named `service` when neither names it."""
    resource = Resource.create({})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    return resource


def new_provider(service: str, processors: Sequence[SpanProcessor] = ()) -> TracerProvider:
    """A tracer provider for `service` with our sampler (OTEL_TRACES_SAMPLER, orphan client spans dropped)."""
    provider = TracerProvider(
        sampler=SkipOrphanClientSpans(sampling._get_from_env_or_default()),
        resource=service_resource(service),
    )
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, TLS, timeout, compression: OTEL_EXPORTER_OTLP_*


def configure(service: str) -> TracerProvider | None:
    """This process's tracing from the OTEL_* variables: the provider (also the global one), or None when
    they ask for no exporter. Raises TracingConfigError for what cannot be served."""
    exporters = exporters_from_env()
    if not exporters:
        return None
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = new_provider(service, [BatchSpanProcessor(_exporter(name)) for name in exporters])
    trace.set_tracer_provider(provider)
    activate(provider)
    log.info(
        "tracing.enabled",
        exporters=exporters,
        service_name=provider.resource.attributes.get(SERVICE_NAME),
        sampler=provider.sampler.get_description(),
    )
    return provider


def activate(provider: TracerProvider) -> None:
    """Trace with `provider` what is built from now on (tests activate an in-memory one)."""
    global _provider
    _provider = provider


def deactivate() -> None:
    """Stop tracing what is built from now on (and the relays and consumers at once); no flush."""
    global _provider
    _provider = None


def shutdown() -> None:
    """Flush and close the active provider (a process's end)."""
    provider = _provider
    deactivate()
    if provider is not None:
        provider.shutdown()


def active() -> TracerProvider | None:
    return _provider


# gRPC


def _untraced() -> Any:
    from opentelemetry.instrumentation.grpc import filters

    return filters.negate(filters.any_of(*(filters.service_name(name) for name in UNTRACED_SERVICES)))


def server_interceptors() -> list[grpc.ServerInterceptor]:
    """The interceptor opening a SERVER span per call (first in the chain, so that the call's log line
    and everything it does are inside the span); none while tracing is off."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import server_interceptor

    return [server_interceptor(tracer_provider=_provider, filter_=_untraced())]  # type: ignore[no-untyped-call]


def intercept_channel(channel: grpc.Channel) -> grpc.Channel:
    """`channel` with a CLIENT span per call and the W3C context in its metadata; itself while off."""
    if _provider is None:
        return channel
    from opentelemetry.instrumentation.grpc import client_interceptor
    from opentelemetry.instrumentation.grpc.grpcext import intercept_channel as otel_intercept_channel

    traced: grpc.Channel = otel_intercept_channel(  # type: ignore[no-untyped-call]
        channel,
        client_interceptor(tracer_provider=_provider, filter_=_untraced()),  # type: ignore[no-untyped-call]
    )
    return traced


def record_rpc_status(code: int, message: str = "") -> None:
    """Set the current server span's gRPC status (the interceptor ends calls with `abort_with_status`,
    which the instrumentation does not see); ERROR for the codes that are the server's fault."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute("rpc.grpc.status_code", code)
    if code in SERVER_ERROR_CODES:
        span.set_status(Status(StatusCode.ERROR, message or None))


# SQLAlchemy and Redis


def instrument_engine(engine: Engine) -> None:
    """A span per SQL statement of `engine` (opentelemetry-instrumentation-sqlalchemy); nothing while off."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import NoOpMeter

    tracer = _provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    # The pool gauges are Prometheus's business here (devinsider_common.metrics): a no-op meter.
    usage = NoOpMeter("opentelemetry.instrumentation.sqlalchemy").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine, usage)  # type: ignore[no-untyped-call]


def instrument_redis(client: redis.Redis) -> None:
    """A span per Redis command or pipeline of `client`; nothing while off."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor.instrument_client(client, tracer_provider=_provider)


# Events: the outbox row, the relay's publish, the consumer's handling


def current_headers() -> dict[str, str] | None:
    """The current span's W3C context (`traceparent`, `tracestate`), to store with an outbox row; None
    when nothing is traced."""
    if _provider is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


def _text_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """The string-valued AMQP headers (pika hands table strings back as str, or bytes when not UTF-8)."""
    found: dict[str, str] = {}
    for key, value in (headers or {}).items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            found[key] = value
    return found


@contextmanager
def publish_span(
    exchange: str, routing_key: str, message_id: str, event_type: str, stored: Mapping[str, str] | None
) -> Iterator[dict[str, str]]:
    """An "outbox publish" PRODUCER span, child of the context `stored` with the row; yields the headers to
    publish with (the span's own context). While off: the stored headers as they are."""
    if _provider is None:
        yield dict(stored or {})
        return
    tracer = _provider.get_tracer(_INSTRUMENTATION)
    attributes: dict[str, str] = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": exchange,
        "messaging.rabbitmq.destination.routing_key": routing_key,
        "messaging.message.id": message_id,
        "devinsider.event_type": event_type,
    }
    parent = propagate.extract(dict(stored or {}))
    with tracer.start_as_current_span("outbox publish", context=parent, kind=SpanKind.PRODUCER, attributes=attributes):
        headers = {key: value for key, value in (stored or {}).items() if key not in TRACE_HEADERS}
        propagate.inject(headers)
        yield headers


@contextmanager
def consumer_span(
    queue: str, message_id: str, event_type: str, headers: Mapping[str, Any] | None, attempt: int
) -> Iterator[trace.Span]:
    """A "process <queue>" CONSUMER span, child of the context the message carries; the handler runs in it.
    While off: the invalid span (recording nothing)."""
    if _provider is None:
        yield trace.INVALID_SPAN
        return
    tracer = _provider.get_tracer(_INSTRUMENTATION)
    attributes: dict[str, str | int] = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "process",
        "messaging.operation.name": "deliver",
        "messaging.destination.name": queue,
        "messaging.message.id": message_id,
        "devinsider.event_type": event_type,
        "devinsider.attempt": attempt,
    }
    parent = propagate.extract(_text_headers(headers))
    with tracer.start_as_current_span(
        f"process {queue}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


def record_failure(span: trace.Span, error: BaseException) -> None:
    """Mark `span` failed by `error` (a handler's exception the consumer handles itself)."""
    if span.is_recording():
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))

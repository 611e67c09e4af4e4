"""One trace, edge to consumer (issue 16): a REST call through a real Envoy whose OpenTelemetry tracer sends its
spans to an OTLP collector in this test, and two services in process (user, company) exporting theirs over
OTLP to the same collector, on real PostgreSQL, Redis and RabbitMQ.

Keycloak's signed `access.DELETE_ACCOUNT` reaches the user service through the edge; the service writes the
user and its `UserDeleted` outbox row in one transaction; its relay publishes the row; the company service's
`company.user-deletions` consumer handles it. Every one of those steps is a span of the trace Envoy started,
each the child of the one before: Envoy's ingress → Envoy's upstream call → the gRPC server span → its SQL
statements and the outbox publish → the consumer's span → its SQL statements.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from company_service.bootstrap import CompanyService
from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from devinsider_common import tracing
from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_common.testing import infra
from devinsider_common.testing.otlp import Collector, ReceivedSpan
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.http import Response, request
from user_service.bootstrap import UserService
from user_service.bootstrap import start as start_user
from user_service.settings import UserSettings

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "http://localhost/devinsider-tracing"
WEBHOOK_SECRET = "tracing-keycloak-webhook-secret"
DELETIONS_QUEUE = "company.user-deletions"
# Envoy flushes its spans every 5 s (or every 5 spans): wait longer than that.
SPANS_TIMEOUT = 30.0


@dataclass
class TracedStack:
    envoy: envoy.RunningEnvoy
    user: UserService
    company: CompanyService
    collector: Collector
    provider: TracerProvider

    def keycloak_event(self, event_type: str, subject: str, details: dict[str, str], request_id: str) -> Response:
        """A signed p2-inc/keycloak-events user event, through the edge."""
        body = json.dumps(
            {
                "id": str(uuid.uuid4()),
                "time": int(time.time() * 1000),
                "type": event_type,
                "realmId": "devinsider",
                "authDetails": {"realmId": "devinsider", "clientId": "web", "userId": subject},
                "details": details,
            },
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "content-type": "application/json",
            "x-keycloak-signature": f"sha256={signature}",
            "x-request-id": request_id,
        }
        return request("POST", self.envoy.url("/v1/webhooks/keycloak"), body, headers)

    def spans(self) -> list[ReceivedSpan]:
        self.provider.force_flush()
        return list(self.collector.spans)


def _start(stack: ExitStack, workdir: Path) -> TracedStack:
    infra.require("127.0.0.1", 5432, "PostgreSQL")
    infra.require("127.0.0.1", 6379, "Redis")
    infra.require(infra.AMQP_HOST, infra.AMQP_PORT, "RabbitMQ")
    keys = workdir / "keys"
    ensure_dev_keys(keys)

    collector = Collector()
    stack.callback(collector.stop)
    # The services' spans go over OTLP/gRPC to the same collector as Envoy's (what OTEL_EXPORTER_OTLP_ENDPOINT
    # sets up in a service process); activated before they start, so that what they build is traced.
    exporter = OTLPSpanExporter(endpoint=collector.endpoint, insecure=True)
    provider = tracing.new_provider(
        "devinsider-tracing-test", [BatchSpanProcessor(exporter, schedule_delay_millis=100)]
    )
    tracing.activate(provider)
    stack.callback(provider.shutdown)
    stack.callback(tracing.deactivate)

    schemas = infra.isolated_schemas(stack, ("user", "company"), "trace")
    prefix = infra.isolated_redis_prefix(stack, "trace")
    _, amqp_url = infra.isolated_vhost(stack, "trace")

    shared: dict[str, object] = {
        "grpc_port": 0,
        "database_url": infra.POSTGRES_URL,
        "redis_url": infra.REDIS_URL,
        "redis_key_prefix": prefix,
        "health_check_interval_seconds": 0.2,
        "shutdown_grace_seconds": 1.0,
        "auth": AuthSettings(issuer=ISSUER, dev_key_dir=keys),
        "broker": BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05),
    }
    user = start_user(
        UserSettings(
            **shared,  # type: ignore[arg-type]
            database_schema=schemas["user"],
            keycloak_webhook_secret=WEBHOOK_SECRET,
            access_cache_ttl_seconds=0.0,
        )
    )
    stack.callback(user.stop, grace=0)
    company = start_company(
        CompanySettings(
            **shared,  # type: ignore[arg-type]
            database_schema=schemas["company"],
            upload_dir=workdir / "uploads",
            user_target=f"127.0.0.1:{user.port}",
        )
    )
    stack.callback(company.stop, grace=0)
    assert company.wait_until_consuming(30), "the company service's consumer did not connect"

    port, admin_port = envoy.free_port(), envoy.free_port()
    config = workdir / "envoy.yaml"
    cli.main(
        [
            *("--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), "--out", str(config), "--no-docs"),
            *("--upstream", f"devinsider.user.v1.UserService=127.0.0.1:{user.port}"),
            *("--upstream", f"devinsider.company.v1.CompanyService=127.0.0.1:{company.port}"),
            *("--port", str(port), "--admin-port", str(admin_port), "--listen-address", "127.0.0.1"),
            *("--jwt-issuer", ISSUER, "--jwks-file", str(keys / "jwks.json"), "--health-check-interval", "0.3"),
            *("--otlp-endpoint", collector.endpoint, "--trace-service-name", "edge"),
        ]
    )
    running = envoy.start(config, port, admin_port, workdir / "envoy.log")
    stack.callback(running.stop)
    return TracedStack(running, user, company, collector, provider)


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TracedStack]:
    with ExitStack() as stack:
        yield _start(stack, tmp_path_factory.mktemp("tracing"))


def _children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [span for span in spans if span.parent_span_id == parent.span_id]


def _one(spans: list[ReceivedSpan], description: str) -> ReceivedSpan:
    assert len(spans) == 1, f"expected one {description}, got {spans}"
    return spans[0]


def test_one_trace_spans_the_edge_the_service_its_database_the_outbox_and_the_consumer(traced: TracedStack) -> None:
    subject = f"traced-{uuid.uuid4().hex[:10]}"
    email = f"{subject}@example.com"
    details = {"email": email, "first_name": "Tracy", "last_name": "Spans", "username": email}
    registered = traced.keycloak_event("access.REGISTER", subject, details, uuid.uuid4().hex)
    assert registered.status == 200, registered.body

    request_id = uuid.uuid4().hex
    deleted = traced.keycloak_event("access.DELETE_ACCOUNT", subject, {}, request_id)
    assert deleted.status == 200, deleted.body
    assert deleted.headers["x-request-id"] == request_id  # the tracer leaves a client's request id alone

    def edge_root(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
        roots = [s for s in spans if s.service == "edge" and not s.parent_span_id and request_id in str(s.attributes)]
        return roots[0] if roots else None

    def complete(spans: list[ReceivedSpan]) -> bool:
        root = edge_root(spans)
        if root is None:
            return False
        names = {s.name for s in spans if s.trace_id == root.trace_id}
        return f"process {DELETIONS_QUEUE}" in names and any(s.kind == "CLIENT" for s in spans if s.service == "edge")

    spans = traced.collector.wait_for(lambda found: (traced.provider.force_flush(), complete(found))[1], SPANS_TIMEOUT)
    root = edge_root(spans)
    assert root is not None, f"no edge span for request {request_id}: {sorted({s.name for s in spans})}"
    trace = [s for s in spans if s.trace_id == root.trace_id]
    by_id = {s.span_id: s for s in trace}

    # Edge: Envoy's ingress span (SERVER), and its upstream call (CLIENT) under it.
    assert root.kind == "SERVER"
    upstream = _one([s for s in _children(trace, root) if s.service == "edge"], "upstream span of Envoy")
    assert upstream.kind == "CLIENT"

    # Service: the user service's gRPC span is the child of Envoy's upstream span (Envoy sent `traceparent`).
    server = _one(_children(trace, upstream), "gRPC server span")
    assert server.kind == "SERVER" and server.service == "devinsider-tracing-test"
    assert server.name == "/devinsider.user.v1.UserService/ReceiveKeycloakEvent"
    assert server.attributes["rpc.grpc.status_code"] == 0 and not server.error

    # Database: the request's statements are its children, the outbox row's INSERT among them.
    statements = [s for s in _children(trace, server) if s.attributes.get("db.system") == "postgresql"]
    assert statements, "no SQL span under the gRPC span"
    assert any("outbox_messages" in str(s.attributes.get("db.statement", "")) for s in statements)

    # Outbox: the relay published the row as a child of the request that wrote it.
    publish = _one([s for s in _children(trace, server) if s.name == "outbox publish"], "outbox publish span")
    assert publish.kind == "PRODUCER"
    assert publish.attributes["messaging.destination.name"] == "user_updates_exchange"
    assert publish.attributes["messaging.rabbitmq.destination.routing_key"] == "user.deleted"
    assert publish.attributes["devinsider.event_type"] == "devinsider.user.v1.UserDeleted"

    # Consumer: the company service handled the message under the publish, with its own statements.
    consumer = _one(_children(trace, publish), "consumer span")
    assert consumer.kind == "CONSUMER" and consumer.name == f"process {DELETIONS_QUEUE}"
    assert consumer.attributes["messaging.message.id"] == publish.attributes["messaging.message.id"]
    assert not consumer.error
    handled = [s for s in _children(trace, consumer) if s.attributes.get("db.system") == "postgresql"]
    assert any("inbox_messages" in str(s.attributes.get("db.statement", "")) for s in handled)

    # One tree: every span of the trace reaches Envoy's root through its parents.
    for span in trace:
        seen = span
        while seen.parent_span_id:
            assert seen.parent_span_id in by_id, f"{seen.name} has a parent outside the trace"
            seen = by_id[seen.parent_span_id]
        assert seen is root


def test_health_checks_and_the_relays_polling_make_no_traces(traced: TracedStack) -> None:
    """Envoy checks both services' health every 0.3 s and both relays poll every 50 ms: none of it is traced."""
    time.sleep(1.0)
    spans = traced.spans()
    assert not [s for s in spans if "grpc.health" in s.name]
    service_roots = [s for s in spans if s.service != "edge" and not s.parent_span_id]
    assert all(s.kind in ("PRODUCER", "CONSUMER", "SERVER") for s in service_roots), service_roots

"""The whole suite (six services) behind one real Envoy, on real PostgreSQL, Redis and RabbitMQ.

`suite_stack` (module scope) starts the user, company, investor, program, matching and billing
services in process, each on its own fresh PostgreSQL schema of the test database, all on one Redis
key prefix (as in production, where the services share `REDIS_KEY_PREFIX`) and one fresh RabbitMQ
vhost, so that the outbox relays publish for real. Every service asks the real user service for the
blacklist (`user_target`) and the real page services for page access; company and investor project
billing's unlocks from its events and ask the unlocking pages' services about membership; billing asks matching
for blocked pairs, matching, contact and the page services ask billing for each page's entitlements (match cap,
contact requests a month, seats, directory filters; dropped on its EntitlementsChanged); contact projects
billing's unlocks too and asks the page services, matching and the user service before a contact request;
notification follows the members, users and pages from their events and turns
unlocks, contact, invitations, applications, billing and matches into notifications and mails (its clock can be
moved on: `notification_clock`); billing's local payment provider sends its
signed callbacks through Envoy (`/v1/webhooks/payments`), as the real provider would. One Envoy,
generated from gen/devinsider.binpb, routes to all six. Everything is stopped, dropped and deleted
at teardown.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlparse

import pika
import pytest

from billing_service.bootstrap import BillingService
from billing_service.bootstrap import start as start_billing
from billing_service.settings import BillingSettings
from company_service.bootstrap import CompanyService
from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from contact_service.bootstrap import ContactService
from contact_service.bootstrap import start as start_contact
from contact_service.settings import ContactSettings
from devinsider.common.v1 import event_pb2, mail_pb2
from devinsider_common.auth.dev_issuer import ensure_dev_keys, issue_token
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_common.testing import infra
from devinsider_common.testing.amqp import drain
from devinsider_common.testing.services import SUITE_SERVICES
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.http import Response, request
from investor_service.bootstrap import InvestorService
from investor_service.bootstrap import start as start_investor
from investor_service.settings import InvestorSettings
from matching_service.bootstrap import MatchingService
from matching_service.bootstrap import start as start_matching
from matching_service.settings import MatchingSettings
from notification_service.bootstrap import NotificationService
from notification_service.bootstrap import start as start_notification
from notification_service.settings import NotificationSettings
from program_service.bootstrap import ProgramService
from program_service.bootstrap import start as start_program
from program_service.settings import ProgramSettings
from user_service.bootstrap import UserService
from user_service.bootstrap import start as start_user
from user_service.settings import UserSettings

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "http://localhost/devinsider-e2e-pages"
# How long the page services reuse the user service's access answer: the bound on blacklist enforcement.
ACCESS_CACHE_TTL_SECONDS = 1.0
# How long to wait for something asynchronous (a relayed event, an access cache expiring) to happen.
EVENTUALLY_SECONDS = 20.0
# Secrets of the two webhooks the edge takes (Keycloak events, payment provider callbacks).
KEYCLOAK_WEBHOOK_SECRET = "e2e-keycloak-webhook-secret"
PAYMENT_WEBHOOK_SECRET = "e2e-payment-webhook-secret"
# Contact requests a page may send a day (tests/e2e/test_contact_requests.py goes over it).
CONTACT_REQUESTS_PER_DAY = 3

SERVICES = SUITE_SERVICES


@dataclass(frozen=True)
class Event:
    """A message read from a seed queue: its AMQP properties and the decoded envelope."""

    queue: str
    properties: Any
    body: bytes
    envelope: event_pb2.EventEnvelope

    @property
    def amqp_type(self) -> str:
        """The AMQP `type` property the relay sets: the event's proto name."""
        return str(self.properties.type)

    def payload(self, message_class: type[Any]) -> Any:
        return unpack_payload(self.envelope, message_class)


@dataclass
class Broker:
    """Reads the seed queues of the stack's vhost. Every message read is kept (tests share the
    queues and filter by resource), so a test never takes another test's message away."""

    url: str
    seen: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))

    def declare(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            topology.declare_topology(connection.channel())
        finally:
            connection.close()

    def wait_for(
        self, queue: str, matches: Callable[[Event], bool], until: Callable[[list[Event]], bool]
    ) -> list[Event]:
        """The messages of `queue` that `matches`, once `until` holds for them (polled, with a deadline)."""
        deadline = time.monotonic() + EVENTUALLY_SECONDS
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            channel = connection.channel()
            while True:
                for message in drain(channel, queue):
                    self.seen[queue].append(Event(queue, message.properties, message.body, from_json(message.body)))
                found = [event for event in self.seen[queue] if matches(event)]
                if until(found) or time.monotonic() > deadline:
                    return found
                time.sleep(0.05)
        finally:
            connection.close()

    def events_about(self, queue: str, resource: str, types: list[str]) -> list[Event]:
        """The events of `queue` whose external id is `resource` or under it, once `types` all arrived."""

        def about(event: Event) -> bool:
            external = event.envelope.external_id
            return external == resource or external.startswith(resource + "/")

        def complete(found: list[Event]) -> bool:
            return all(sum(e.amqp_type == t for e in found) >= types.count(t) for t in set(types))

        return self.wait_for(queue, about, complete)

    def mails_to(self, email: str, template: str) -> list[mail_pb2.MailRequested]:
        """The MailRequested messages of `template` to `email` on mail_service_queue (at least one)."""

        def mine(event: Event) -> bool:
            mail = event.payload(mail_pb2.MailRequested)
            return bool(mail.to_email == email.lower() and mail.template == template)

        found = self.wait_for(topology.DIRECT_QUEUES[topology.MAIL], mine, bool)
        return [event.payload(mail_pb2.MailRequested) for event in found]

    def invitation_token(self, email: str, template: str) -> tuple[str, str]:
        """(invitation name, one-time token) of the latest invitation mail to `email`."""
        mails = self.mails_to(email, template)
        assert mails, f"no {template} mail to {email} on {topology.MAIL}"
        query = parse_qs(urlparse(mails[-1].variables["accept_url"]).query)
        return query["invitation"][0], query["token"][0]


class SkewedClock:
    """The clock of the stack's notification or contact service: real time, moved on by `advance` (the digest
    job's day, a new day of contact requests)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class EdgeStack(Protocol):
    """What the journeys (journeys.py) need of a running suite: the in-process one here, or the compose
    stack of tests/compose."""

    broker: Broker
    # The local payment provider's API key (its resend endpoint takes it).
    provider_api_key: str

    def url(self, path: str) -> str: ...

    def token(self, subject: str, roles: tuple[str, ...] = ("isv",), email: str = "") -> str: ...

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> Response: ...

    def buyer_url(self, url: str) -> str:
        """The address at which a buyer's browser reaches a page of the local payment provider."""
        ...


@dataclass
class SuiteStack:
    envoy: envoy.RunningEnvoy
    user: UserService
    company: CompanyService
    investor: InvestorService
    program: ProgramService
    matching: MatchingService
    billing: BillingService
    contact: ContactService
    notification: NotificationService
    broker: Broker
    keys: Path
    redis_prefix: str
    provider_api_key: str = "dev-provider-key"  # BillingSettings' default, which this stack keeps
    notification_clock: SkewedClock = field(default_factory=lambda: SkewedClock())
    contact_clock: SkewedClock = field(default_factory=lambda: SkewedClock())

    def url(self, path: str) -> str:
        return self.envoy.url(path)

    def buyer_url(self, url: str) -> str:
        return url  # the provider runs in this process, on 127.0.0.1

    def token(self, subject: str, roles: tuple[str, ...] = ("isv",), email: str = "") -> str:
        return dev_token(self.keys, ISSUER, subject, roles, email)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Response:
        """A REST call through Envoy, with a bearer token when given."""
        return rest_call(self.url(path), method, body, token)


def dev_token(keys: Path, issuer: str, subject: str, roles: tuple[str, ...], email: str) -> str:
    """A ten-minute token of the dev key pair in `keys` for `subject` (e-mail `<subject>@example.com` by default)."""
    return issue_token(
        keys,
        issuer,
        subject,
        roles=roles,
        email=email or f"{subject}@example.com",
        given_name=subject.split("-")[0].title(),
        family_name="Tester",
        ttl_seconds=600,
    )


def rest_call(url: str, method: str, body: dict[str, Any] | None, token: str | None) -> Response:
    """A REST call with a bearer token when given; POST and PATCH send `{}` when no body is given."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if method in {"POST", "PATCH"} and body is None:
        body = {}
    return request(method, url, body, headers)


def unique(prefix: str) -> str:
    """A name no other test (nor an earlier run on the same infrastructure) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _database(schema: str, url: str = infra.POSTGRES_URL) -> dict[str, object]:
    return {"database_url": url, "database_schema": schema}


def _start_stack(
    stack: ExitStack,
    workdir: Path,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    amqp_address: str | None = None,
    relay_backoff_max_seconds: float | None = None,
    billing_overrides: Mapping[str, Any] | None = None,
) -> SuiteStack:
    """Start the stack. The optional overrides change only where the services connect (the fault
    tests pass TCP proxies in front of the real servers): `database_url` (same database, other
    address), `redis_url`, `amqp_address` (`host:port` of RabbitMQ); schemas, vhost, key cleanup
    and the test's own broker reader use the real servers."""
    infra.require("127.0.0.1", 5432, "PostgreSQL")
    infra.require("127.0.0.1", 6379, "Redis")
    infra.require(infra.AMQP_HOST, infra.AMQP_PORT, "RabbitMQ")
    keys = workdir / "keys"
    ensure_dev_keys(keys)
    db_url = database_url or infra.POSTGRES_URL

    # PostgreSQL: one fresh schema per service; Redis: one key prefix; RabbitMQ: a fresh vhost; all removed
    # at the end.
    schemas = infra.isolated_schemas(stack, SERVICES, "e2e")
    prefix = infra.isolated_redis_prefix(stack, "e2e")
    vhost, amqp_url = infra.isolated_vhost(stack, "e2e")
    services_amqp_url = f"amqp://guest:guest@{amqp_address}/{quote(vhost, safe='')}" if amqp_address else amqp_url
    relay_tuning = {} if relay_backoff_max_seconds is None else {"relay_backoff_max_seconds": relay_backoff_max_seconds}
    broker = Broker(amqp_url)
    broker.declare()  # the seed queues exist before the first event is relayed

    shared: dict[str, object] = {
        "grpc_port": 0,
        "redis_url": redis_url or infra.REDIS_URL,
        "redis_key_prefix": prefix,
        "health_check_interval_seconds": 0.2,
        "shutdown_grace_seconds": 1.0,
        "auth": AuthSettings(issuer=ISSUER, dev_key_dir=keys),
        "broker": BrokerSettings(amqp_url=services_amqp_url, relay_interval_seconds=0.05, **relay_tuning),  # type: ignore[arg-type]
    }
    user = start_user(
        UserSettings(
            **shared,  # type: ignore[arg-type]
            **_database(schemas["user"], db_url),  # type: ignore[arg-type]
            access_cache_ttl_seconds=0.0,
            keycloak_webhook_secret=KEYCLOAK_WEBHOOK_SECRET,
        )
    )
    stack.callback(user.stop, grace=0)
    user_target = f"127.0.0.1:{user.port}"
    # Ports chosen first: company asks investor and program (unlocks), investor asks program, billing's provider
    # calls Envoy.
    billing_port, port, admin_port = envoy.free_port(), envoy.free_port(), envoy.free_port()
    investor_port, program_port = envoy.free_port(), envoy.free_port()
    # Seats, directory filters and contact requests a month follow billing's entitlements; their answers are kept
    # for long, so a plan bought shows only through billing's EntitlementsChanged (`<service>.entitlements`).
    entitlements = {"billing_target": f"127.0.0.1:{billing_port}", "entitlements_cache_ttl_seconds": 300.0}
    company = start_company(
        CompanySettings(
            **shared,  # type: ignore[arg-type]
            **_database(schemas["company"], db_url),  # type: ignore[arg-type]
            upload_dir=workdir / "uploads",
            user_target=user_target,
            access_cache_ttl_seconds=ACCESS_CACHE_TTL_SECONDS,
            investor_target=f"127.0.0.1:{investor_port}",
            program_target=f"127.0.0.1:{program_port}",
            unlock_cache_ttl_seconds=0.0,
            **entitlements,  # type: ignore[arg-type]
        )
    )
    stack.callback(company.stop, grace=0)
    investor = start_investor(
        InvestorSettings(
            **shared | {"grpc_port": investor_port},  # type: ignore[arg-type]
            **_database(schemas["investor"], db_url),  # type: ignore[arg-type]
            user_target=user_target,
            access_cache_ttl_seconds=ACCESS_CACHE_TTL_SECONDS,
            company_target=f"127.0.0.1:{company.port}",
            program_target=f"127.0.0.1:{program_port}",
            unlock_cache_ttl_seconds=0.0,
            **entitlements,  # type: ignore[arg-type]
        )
    )
    stack.callback(investor.stop, grace=0)
    # USER_TARGET is given to the program service as to every service (scripts/run_local.py does the same);
    # ProgramSettings has no such field (extra settings are ignored): test_blacklist_across_services shows it.
    program_values: dict[str, object] = {
        **shared,
        "grpc_port": program_port,
        **_database(schemas["program"], db_url),
        "company_target": f"127.0.0.1:{company.port}",
        "investor_target": f"127.0.0.1:{investor.port}",
        "company_access_cache_ttl_seconds": 1.0,
        **entitlements,
        "user_target": user_target,
        "access_cache_ttl_seconds": ACCESS_CACHE_TTL_SECONDS,
    }
    program = start_program(ProgramSettings(**program_values))  # type: ignore[arg-type]
    stack.callback(program.stop, grace=0)
    page_targets = {
        "company_target": f"127.0.0.1:{company.port}",
        "investor_target": f"127.0.0.1:{investor.port}",
        "program_target": f"127.0.0.1:{program.port}",
    }
    matching = start_matching(
        MatchingSettings(
            **shared,  # type: ignore[arg-type]
            **_database(schemas["matching"], db_url),  # type: ignore[arg-type]
            **page_targets,  # type: ignore[arg-type]
            user_target=user_target,
            access_cache_ttl_seconds=ACCESS_CACHE_TTL_SECONDS,
            page_access_cache_ttl_seconds=0.0,
            index_poll_interval_seconds=0.2,
            announcement_drain_interval_seconds=0.5,
            # Match caps from billing (started below, on its chosen port), asked on every list.
            billing_target=f"127.0.0.1:{billing_port}",
            entitlements_cache_ttl_seconds=0.0,
        )
    )
    stack.callback(matching.stop, grace=0)
    billing = start_billing(
        BillingSettings(
            **shared | {"grpc_port": billing_port},  # type: ignore[arg-type]
            **_database(schemas["billing"], db_url),  # type: ignore[arg-type]
            **page_targets,  # type: ignore[arg-type]
            matching_target=f"127.0.0.1:{matching.port}",
            user_target=user_target,
            remote_cache_ttl_seconds=0.0,
            payment_provider="local",
            payment_webhook_secret=PAYMENT_WEBHOOK_SECRET,
            payment_webhook_url=f"http://127.0.0.1:{port}/v1/webhooks/payments",
            **(billing_overrides or {}),
        )
    )
    stack.callback(billing.stop, grace=0)
    contact_clock = SkewedClock()  # moved on by the tests of contact requests a month (test_entitlements)
    contact = start_contact(
        ContactSettings(
            **shared,  # type: ignore[arg-type]
            **_database(schemas["contact"], db_url),  # type: ignore[arg-type]
            **page_targets,  # type: ignore[arg-type]
            matching_target=f"127.0.0.1:{matching.port}",
            user_target=user_target,
            access_cache_ttl_seconds=ACCESS_CACHE_TTL_SECONDS,
            remote_cache_ttl_seconds=0.0,
            contact_request_rate_limit=CONTACT_REQUESTS_PER_DAY,
            **entitlements,  # type: ignore[arg-type]
        ),
        clock=contact_clock,
    )
    stack.callback(contact.stop, grace=0)
    notification_clock = SkewedClock()
    notification = start_notification(
        NotificationSettings(
            **shared,  # type: ignore[arg-type]
            **_database(schemas["notification"], db_url),  # type: ignore[arg-type]
            user_target=user_target,
            access_cache_ttl_seconds=ACCESS_CACHE_TTL_SECONDS,
            digest_job_interval_seconds=3600.0,  # tests run the digest job themselves, on the moved clock
        ),
        clock=notification_clock,
    )
    stack.callback(notification.stop, grace=0)

    # One Envoy in front of the six.
    ports = {
        "user": user.port,
        "company": company.port,
        "investor": investor.port,
        "program": program.port,
        "matching": matching.port,
        "billing": billing.port,
        "contact": contact.port,
        "notification": notification.port,
    }
    upstreams = [arg for name, full in SERVICES.items() for arg in ("--upstream", f"{full}=127.0.0.1:{ports[name]}")]
    config = workdir / "envoy.yaml"
    cli.main(
        [
            *("--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), "--out", str(config)),
            *upstreams,
            *("--port", str(port), "--admin-port", str(admin_port), "--listen-address", "127.0.0.1"),
            *("--jwt-issuer", ISSUER, "--jwks-file", str(keys / "jwks.json"), "--health-check-interval", "0.3"),
        ]
    )
    running = envoy.start(config, port, admin_port, workdir / "envoy.log")
    stack.callback(running.stop)
    # The consumers' queues (unlocks, account deletions) exist before a test produces their events.
    consuming = [
        service.wait_until_consuming(30) for service in (company, investor, program, matching, contact, notification)
    ]
    assert all(consuming), "a consumer did not connect"
    return SuiteStack(
        running,
        user,
        company,
        investor,
        program,
        matching,
        billing,
        contact,
        notification,
        broker,
        keys,
        prefix,
        notification_clock=notification_clock,
        contact_clock=contact_clock,
    )


@pytest.fixture(scope="module")
def suite_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteStack]:
    """The stack of a test module; a module's `SUITE_BILLING` (BillingSettings fields) changes billing's."""
    with ExitStack() as stack:
        billing = getattr(request.module, "SUITE_BILLING", None)
        yield _start_stack(stack, tmp_path_factory.mktemp("e2e-pages"), billing_overrides=billing)


# Journeys' building blocks, through the edge.


def status_of(response: Response) -> tuple[int, int, str]:
    """(HTTP status, google.rpc code, ErrorInfo reason) of an error response."""
    status = response.json()
    reasons = [d.get("reason", "") for d in status.get("details", []) if d["@type"].endswith("google.rpc.ErrorInfo")]
    return response.status, int(status.get("code", 0)), reasons[0] if reasons else ""


def field_violations(response: Response) -> list[str]:
    """The fields named by the BadRequest details of an error response."""
    details = response.json().get("details", [])
    return [v["field"] for d in details if d["@type"].endswith("google.rpc.BadRequest") for v in d["fieldViolations"]]


def create_company(stack: EdgeStack, owner: str, **fields: object) -> dict[str, Any]:
    response = stack.call("POST", "/v1/companies", dict(fields), owner)
    assert response.status == 200, response.body
    return dict(response.json())


def join_company(stack: EdgeStack, company: str, owner: str, subject: str, role: str) -> str:
    """Invites `subject` to `company` with `role`, reads the mailed token from RabbitMQ and accepts
    it through the edge as `subject`; returns `subject`'s token."""
    email = f"{subject}@example.com"
    invitation = stack.call("POST", f"/v1/{company}/invitations", {"email": email, "role": role}, owner)
    assert invitation.status == 200, invitation.body
    name, one_time = stack.broker.invitation_token(email, "company_invitation")
    assert name == invitation.json()["name"]
    token = stack.token(subject, email=email)
    accepted = stack.call("POST", f"/v1/{name}:accept", {"token": one_time}, token)
    assert accepted.status == 200, accepted.body
    return token

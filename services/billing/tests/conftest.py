"""Fixtures of the billing tests: a real server on PostgreSQL or SQLite, its local payment provider,
in-test doubles of the neighbours it asks (CheckPageAccess, CheckBlocked), dev tokens, typed stubs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from billing_service.bootstrap import BillingService, start
from billing_service.settings import BillingSettings
from devinsider.billing.v1 import billing_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.settings import AuthSettings
from devinsider_common.testing.services import TEST_ISSUER, base_settings
from devinsider_common.testing.services import bearer as bearer  # re-exported for the test modules

from .neighbours import Neighbours

ISSUER = TEST_ISSUER
WEBHOOK_SECRET = "test-payment-secret"
ORIGIN = "https://app.example.com"

TokenFactory = Callable[..., str]


class Clock:
    """The service's clock in tests: real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.offset += delta


def make_settings(tmp_path: Path, database_url: str, schema: str, target: str, **overrides: object) -> BillingSettings:
    values = base_settings(tmp_path, database_url, schema) | {
        "company_target": target,
        "investor_target": target,
        "program_target": target,
        "matching_target": target,
        "user_target": "",
        "remote_cache_ttl_seconds": 0.0,
        "payment_provider": "local",
        "payment_webhook_secret": WEBHOOK_SECRET,
        "allowed_return_origins": [ORIGIN],
        "billing_job_interval_seconds": 3600.0,
    }
    values.update(overrides)
    return BillingSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def neighbours(tmp_path: Path) -> Iterator[Neighbours]:
    doubles = Neighbours(JwtVerifier(AuthSettings(issuer=ISSUER, dev_key_dir=tmp_path / "keys")))
    yield doubles
    doubles.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str], neighbours: Neighbours) -> BillingSettings:
    return make_settings(tmp_path, *database, neighbours.target)


@pytest.fixture
def service(settings: BillingSettings, clock: Clock) -> Iterator[BillingService]:
    running = start(settings, clock=clock)
    yield running
    running.stop(grace=0)


@pytest.fixture
def channel(service: BillingService) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as chan:
        yield chan


@pytest.fixture
def stub(channel: grpc.Channel) -> billing_pb2_grpc.BillingServiceStub:
    return billing_pb2_grpc.BillingServiceStub(channel)


@pytest.fixture
def token(tmp_path: Path) -> TokenFactory:
    """`token(sub, roles=...)`: a dev token the service under test accepts."""

    def make(subject: str, roles: tuple[str, ...] = ("isv",), email: str = "") -> str:
        return issue_token(
            tmp_path / "keys", ISSUER, subject, roles=roles, email=email or f"{subject}@example.com", ttl_seconds=3600
        )

    return make

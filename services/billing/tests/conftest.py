"""Fixtures of billing's service tests: a real server on PostgreSQL with its local payment provider,
in-test doubles of the neighbours it asks (CheckPageAccess, CheckBlocked, BatchGet*), dev tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from billing_service.bootstrap import BillingService, start
from billing_service.settings import BillingSettings
from devinsider.billing.v1 import billing_pb2_grpc
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.services import base_settings
from devinsider_common.testing.tokens import TokenFactory

WEBHOOK_SECRET = "test-payment-secret"
ORIGIN = "https://app.example.com"


def make_settings(tmp_path: Path, database_url: str, schema: str, target: str, **overrides: object) -> BillingSettings:
    values = base_settings(tmp_path, database_url, schema) | {
        "company_target": target,
        "investor_target": target,
        "program_target": target,
        "matching_target": target,
        "remote_cache_ttl_seconds": 0.0,
        "payment_provider": "local",
        "payment_webhook_secret": WEBHOOK_SECRET,
        "allowed_return_origins": [ORIGIN],
        "billing_job_interval_seconds": 3600.0,
    }
    values.update(overrides)
    return BillingSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str], neighbours: Neighbours) -> BillingSettings:
    return make_settings(tmp_path, *database, neighbours.target)


@pytest.fixture
def service(settings: BillingSettings, clock: FakeClock) -> Iterator[BillingService]:
    running = start(settings, clock=clock)
    yield running
    running.stop(grace=0)


@pytest.fixture
def stub(service: BillingService) -> Iterator[billing_pb2_grpc.BillingServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield billing_pb2_grpc.BillingServiceStub(channel)


@pytest.fixture
def tokens(tmp_path: Path) -> TokenFactory:
    """`tokens(sub, roles=...)`: a dev token the service under test accepts."""
    return TokenFactory(tmp_path / "keys")

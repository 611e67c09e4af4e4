"""Fixtures of the notification service's transport tests: a real server on PostgreSQL, dev tokens.

The rules are tested without I/O on `tests/fakes.py` (tests/unit); the stores on the fake and on
PostgreSQL and SQLite alike (tests/adapters)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.notification.v1 import notification_pb2_grpc
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.services import base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory
from notification_service.bootstrap import NotificationService, start
from notification_service.settings import NotificationSettings

from .harness import TUESDAY


def make_settings(tmp_path: Path, database_url: str, schema: str, **overrides: object) -> NotificationSettings:
    values = base_settings(tmp_path, database_url, schema) | {"digest_job_interval_seconds": 3600.0}
    values.update(overrides)
    return NotificationSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str]) -> NotificationSettings:
    return make_settings(tmp_path, *database)


@pytest.fixture
def service(settings: NotificationSettings, clock: FakeClock) -> Iterator[NotificationService]:
    running = start(settings, clock=clock, run_jobs=False)
    yield running
    running.stop(grace=0)


@pytest.fixture
def stub(service: NotificationService) -> Iterator[notification_pb2_grpc.NotificationServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield notification_pb2_grpc.NotificationServiceStub(channel)


@pytest.fixture
def callers(tmp_path: Path) -> CallerFactory:
    """`callers("ada")`: a user whose dev token the service under test accepts (without a user service,
    the caller's user is its subject)."""
    return CallerFactory(TokenFactory(tmp_path / "keys"))

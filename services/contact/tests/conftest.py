"""Fixtures of the contact service's tests: a real server on PostgreSQL, in-test doubles of the neighbours it
asks (CheckPageAccess, BatchGet*, CheckBlocked, CheckUserAccess, GetUser), dev tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from contact_service.bootstrap import ContactService, start
from contact_service.settings import ContactSettings
from devinsider.contact.v1 import contact_pb2_grpc
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.services import base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory


def make_settings(tmp_path: Path, database_url: str, schema: str, target: str, **overrides: object) -> ContactSettings:
    values = base_settings(tmp_path, database_url, schema) | {
        "company_target": target,
        "investor_target": target,
        "program_target": target,
        "matching_target": target,
        "user_target": target,
        "access_cache_ttl_seconds": 0.0,
        "remote_cache_ttl_seconds": 0.0,
        "contact_request_rate_limit": 2,
    }
    values.update(overrides)
    return ContactSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str], neighbours: Neighbours) -> ContactSettings:
    return make_settings(tmp_path, *database, neighbours.target)


@pytest.fixture
def service(settings: ContactSettings, clock: FakeClock) -> Iterator[ContactService]:
    running = start(settings, clock=clock)
    yield running
    running.stop(grace=0)


@pytest.fixture
def stub(service: ContactService) -> Iterator[contact_pb2_grpc.ContactServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield contact_pb2_grpc.ContactServiceStub(channel)


@pytest.fixture
def callers(tmp_path: Path) -> CallerFactory:
    """`callers(sub, roles=...)`: a signed-in user the service under test accepts."""
    return CallerFactory(TokenFactory(tmp_path / "keys"))

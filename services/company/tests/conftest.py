"""Fixtures of the company service tests that run a real server (tests/integration): settings on a
PostgreSQL schema, the service, a typed stub, signed-in callers. Use-case tests need none of these
(tests/fakes.py builds the app on the in-memory unit of work)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from company_service.bootstrap import CompanyService, start
from company_service.settings import CompanySettings
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.services import base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory


def make_settings(tmp_path: Path, database_url: str, schema: str, **overrides: object) -> CompanySettings:
    values = base_settings(tmp_path, database_url, schema) | {
        "upload_dir": tmp_path / "uploads",
        "logo_max_bytes": 4096,
        "invitation_expiry_interval_seconds": 3600.0,
    }
    values.update(overrides)
    return CompanySettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str]) -> CompanySettings:
    return make_settings(tmp_path, *database)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(settings: CompanySettings, clock: FakeClock) -> Iterator[CompanyService]:
    running = start(settings, clock=clock)
    yield running
    running.stop(grace=0)


@pytest.fixture
def stub(service: CompanyService) -> Iterator[company_pb2_grpc.CompanyServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield company_pb2_grpc.CompanyServiceStub(channel)


@pytest.fixture
def tokens(tmp_path: Path) -> TokenFactory:
    """Dev tokens the service under test accepts (the keys `base_settings` points it at)."""
    return TokenFactory(tmp_path / "keys")


@pytest.fixture
def callers(tokens: TokenFactory) -> CallerFactory:
    """`callers("kc-alice", roles=..., email=...)`: a signed-in user and the metadata of their token."""
    return CallerFactory(tokens)


def minimal_company(display_name: str = "Acme Analytics", **fields: object) -> company_pb2.Company:
    return company_pb2.Company(display_name=display_name, **fields)  # type: ignore[arg-type]

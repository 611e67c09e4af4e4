"""Fixtures of the company service tests: a real server on PostgreSQL or SQLite, dev tokens, typed stubs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from company_service.bootstrap import CompanyService, start
from company_service.settings import CompanySettings
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.testing.services import TEST_ISSUER, base_settings
from devinsider_common.testing.services import bearer as bearer  # re-exported for the test modules

ISSUER = TEST_ISSUER

TokenFactory = Callable[..., str]


class FakeClock:
    """The service's clock in tests: moves only when told (no timed assertions)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


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
def channel(service: CompanyService) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as chan:
        yield chan


@pytest.fixture
def stub(channel: grpc.Channel) -> company_pb2_grpc.CompanyServiceStub:
    return company_pb2_grpc.CompanyServiceStub(channel)


@pytest.fixture
def token(tmp_path: Path) -> TokenFactory:
    """`token(sub, roles=..., email=...)`: a dev token the service under test accepts."""

    def make(subject: str, roles: tuple[str, ...] = ("isv",), email: str = "", **claims: object) -> str:
        return issue_token(
            tmp_path / "keys",
            ISSUER,
            subject,
            roles=roles,
            email=email or f"{subject}@example.com",
            given_name=str(claims.pop("given_name", "Ada")),
            family_name=str(claims.pop("family_name", "Lovelace")),
            ttl_seconds=int(claims.pop("ttl_seconds", 600)),  # type: ignore[call-overload]
            extra_claims=dict(claims) or None,
        )

    return make


@dataclass
class Caller:
    """A signed-in user of the tests: subject, e-mail and the metadata carrying their token."""

    subject: str
    email: str
    metadata: tuple[tuple[str, str], ...]


@pytest.fixture
def caller(token: TokenFactory) -> Callable[..., Caller]:
    def make(subject: str, roles: tuple[str, ...] = ("isv",), email: str = "", **claims: object) -> Caller:
        email = email or f"{subject}@example.com"
        return Caller(subject, email, bearer(token(subject, roles, email, **claims)))

    return make


def minimal_company(display_name: str = "Acme Analytics", **fields: object) -> company_pb2.Company:
    return company_pb2.Company(display_name=display_name, **fields)  # type: ignore[arg-type]

"""Fixtures of the program service's integration tests: a real server on PostgreSQL, a
company-service double, dev tokens (the shared TokenFactory/CallerFactory) and a typed stub.
Use-case tests need none of these: they build the app on `tests/fakes.py` (see `tests/world.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import grpc
import pytest
from sqlalchemy import select

from devinsider.common.v1 import mail_pb2
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.testing.services import base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory
from program_service.bootstrap import ProgramService, start
from program_service.settings import ProgramSettings

from .company_double import CompanyDouble


def make_settings(
    tmp_path: Path, database_url: str, schema: str, company_target: str, **overrides: object
) -> ProgramSettings:
    values = base_settings(tmp_path, database_url, schema) | {
        "company_target": company_target,
        "company_access_cache_ttl_seconds": 0.0,
    }
    values.update(overrides)
    return ProgramSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def company() -> Iterator[CompanyDouble]:
    double = CompanyDouble()
    yield double
    double.stop()


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str], company: CompanyDouble) -> ProgramSettings:
    # Not the default CheckPageAccess cache time (10): the answers must carry the configured one.
    return make_settings(tmp_path, *database, company.target, page_access_cache_ttl_seconds=3)


@pytest.fixture
def service(settings: ProgramSettings) -> Iterator[ProgramService]:
    running = start(settings, run_jobs=False)
    yield running
    running.stop(grace=0)


@pytest.fixture
def stub(service: ProgramService) -> Iterator[program_pb2_grpc.ProgramServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as chan:
        yield program_pb2_grpc.ProgramServiceStub(chan)


@pytest.fixture
def tokens(tmp_path: Path) -> TokenFactory:
    """Dev tokens the service under test accepts (its keys are under tmp_path/keys)."""
    return TokenFactory(tmp_path / "keys")


@pytest.fixture
def callers(tokens: TokenFactory) -> CallerFactory:
    return CallerFactory(tokens)


def new_program(**fields: object) -> program_pb2.Program:
    values: dict[str, object] = {
        "display_name": "Azure Partners",
        "vendor_name": "Microsoft",
        "program_type": program_pb2.PROGRAM_TYPE_TECHNOLOGY,
    }
    values.update(fields)
    return program_pb2.Program(**values)  # type: ignore[arg-type]


def mailed_token(service: ProgramService, invitation_name: str) -> str:
    """The token the invitation mail carries (what the invitee clicks), read from the outbox."""
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(outbox_messages.c.body).where(outbox_messages.c.event_type == "devinsider.common.v1.MailRequested")
        ).scalars()
        for body in rows:
            mail = unpack_payload(from_json(body), mail_pb2.MailRequested)
            if mail.template != "program_invitation":
                continue
            query = parse_qs(urlparse(mail.variables["accept_url"]).query)
            if query["invitation"] == [invitation_name]:
                return query["token"][0]
    raise AssertionError(f"no invitation mail for {invitation_name}")

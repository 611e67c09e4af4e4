"""Fixtures of the program service tests: a real server on PostgreSQL or SQLite, a company-service
double, dev tokens, typed stubs, and helpers to build a world of programs and members."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.grpc.status import error_info, field_violations, from_rpc_error
from devinsider_common.testing.services import TEST_ISSUER, base_settings
from devinsider_common.testing.services import bearer as bearer  # re-exported for the test modules
from program_service.bootstrap import ProgramService, start
from program_service.settings import ProgramSettings

from .company_double import CompanyDouble

ISSUER = TEST_ISSUER

TokenFactory = Callable[..., str]
Metadata = tuple[tuple[str, str], ...]


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
    return make_settings(tmp_path, *database, company.target)


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
def token(tmp_path: Path) -> TokenFactory:
    """`token(sub, roles=..., email=...)`: a dev token the service under test accepts."""

    def make(subject: str, roles: tuple[str, ...] = ("program",), email: str = "", **claims: object) -> str:
        return issue_token(
            tmp_path / "keys",
            ISSUER,
            subject,
            roles=roles,
            email=email or f"{subject}@example.com",
            given_name=str(claims.pop("given_name", subject.title())),
            family_name="Tester",
            ttl_seconds=600,
            extra_claims=dict(claims) or None,
        )

    return make


def error_of(call: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str, list[str]]:
    """(code, ErrorInfo reason, violated fields) of a failed call."""
    status = from_rpc_error(call.value)
    assert status is not None, "the server must attach a google.rpc.Status"
    info = error_info(status)
    return call.value.code(), info.reason if info else "", [v.field for v in field_violations(status)]


def new_program(**fields: object) -> program_pb2.Program:
    values: dict[str, object] = {
        "display_name": "Azure Partners",
        "vendor_name": "Microsoft",
        "program_type": program_pb2.PROGRAM_TYPE_TECHNOLOGY,
    }
    values.update(fields)
    return program_pb2.Program(**values)  # type: ignore[arg-type]

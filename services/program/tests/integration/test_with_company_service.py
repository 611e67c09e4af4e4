"""Applications against the REAL company service (services/company, started in process): its
service-only CheckPageAccess answers for the applying company, with this service's own token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from company_service.bootstrap import CompanyService
from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider.program.v1 import program_pb2_grpc
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.services import TEST_ISSUER
from devinsider_common.testing.tokens import CallerFactory
from program_service.bootstrap import start

from ..conftest import make_settings, new_program


@pytest.fixture
def company_service(tmp_path: Path) -> Iterator[CompanyService]:
    settings = CompanySettings(
        grpc_port=0,
        database_url=f"sqlite+pysqlite:///{tmp_path / 'company.sqlite3'}",
        database_schema="company",
        upload_dir=tmp_path / "uploads",
        auth=AuthSettings(issuer=TEST_ISSUER, dev_key_dir=tmp_path / "keys"),
        broker=BrokerSettings(amqp_url=""),
        user_target="",
    )
    running = start_company(settings, run_jobs=False)
    yield running
    running.stop(grace=0)


def test_an_editor_of_a_real_company_applies_and_a_stranger_cannot(
    tmp_path: Path, database: tuple[str, str], company_service: CompanyService, callers: CallerFactory
) -> None:
    program_service = start(make_settings(tmp_path, *database, f"127.0.0.1:{company_service.port}"), run_jobs=False)
    ivy, olga = callers("kc-ivy", ("isv",)).metadata, callers("kc-olga", ("program",)).metadata
    try:
        with (
            grpc.insecure_channel(f"127.0.0.1:{company_service.port}") as company_channel,
            grpc.insecure_channel(f"127.0.0.1:{program_service.port}") as program_channel,
        ):
            companies = company_pb2_grpc.CompanyServiceStub(company_channel)
            acme = companies.CreateCompany(
                company_pb2.CreateCompanyRequest(
                    company=company_pb2.Company(display_name="Acme Software", website_url="https://acme.io")
                ),
                metadata=ivy,
            )
            stub = program_pb2_grpc.ProgramServiceStub(program_channel)
            program = stub.CreateProgram(P.CreateProgramRequest(program=new_program()), metadata=olga)
            stub.PublishProgram(P.PublishProgramRequest(name=program.name), metadata=olga)
            request = P.CreateApplicationRequest(parent=program.name, application=P.Application(company=acme.name))
            assert failure(lambda: stub.CreateApplication(request, metadata=olga)) == Failure(
                grpc.StatusCode.PERMISSION_DENIED,
                "PAGE_PERMISSION_DENIED",  # olga is no member of Acme
            )
            application = stub.CreateApplication(request, metadata=ivy)
            assert application.state == P.APPLICATION_STATE_PENDING
            assert application.company_display_name == "Acme Software"
            approved = stub.ApproveApplication(P.ApproveApplicationRequest(name=application.name), metadata=olga)
            assert approved.state == P.APPLICATION_STATE_APPROVED
            mine = stub.ListApplications(
                P.ListApplicationsRequest(parent="programs/-", company=acme.name), metadata=ivy
            )
            assert [a.name for a in mine.applications] == [application.name]
    finally:
        program_service.stop(grace=0)

"""The embedded default: the whole service on a SQLite file (migrated at start), through its server."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.api import httpbody_pb2

from company_service.bootstrap import start
from devinsider.company.v1 import company_pb2 as c
from devinsider.company.v1 import company_pb2_grpc
from devinsider_common.testing.tokens import CallerFactory

from ..conftest import make_settings, minimal_company
from ..helpers import event_types

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_the_service_runs_on_sqlite(tmp_path: Path, callers: CallerFactory) -> None:
    database = f"sqlite+pysqlite:///{tmp_path / 'company.sqlite3'}"
    service = start(make_settings(tmp_path, database, "company"), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = company_pb2_grpc.CompanyServiceStub(channel)
            alice = callers("kc-alice")
            created = stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company()), metadata=alice.metadata)
            body = httpbody_pb2.HttpBody(content_type="image/png", data=PNG)
            stub.UploadCompanyLogo(c.UploadCompanyLogoRequest(name=created.name, body=body), metadata=alice.metadata)
            seen = stub.GetCompany(c.GetCompanyRequest(name=created.name), metadata=alice.metadata)
            assert (seen.display_name, seen.viewer_role, seen.logo_url) == (
                "Acme Analytics",
                1,
                f"/v1/{created.name}/logo",
            )
            listed = stub.ListCompanies(c.ListCompaniesRequest(query="acme"))
            assert [x.name for x in listed.companies] == [created.name]
        assert event_types(service) == ["CompanyCreated", "MemberAdded", "CompanyUpdated"]
    finally:
        service.stop(grace=0)
    assert (tmp_path / "company.sqlite3").exists()

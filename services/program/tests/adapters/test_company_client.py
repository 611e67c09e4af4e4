"""The company service over gRPC (`adapters.company_client`), against an in-test CompanyService:
the same answers as the fake of the use-case tests (`tests/fakes.FakeCompanies`), on the wire,
with this service's own token, cached, and UNAVAILABLE when the company service is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.company.v1 import company_pb2_grpc
from devinsider_common.auth.service_identity import dev_service_tokens
from devinsider_common.cache import InMemoryCache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.services import TEST_ISSUER
from program_service.adapters.company_client import GrpcCompanyDirectory
from program_service.service_layer.ports import CompanyDirectory

from ..company_double import CompanyDouble
from ..fakes import FakeCompanies

ACME = "companies/c-acme"


@pytest.fixture
def company() -> Iterator[CompanyDouble]:
    double = CompanyDouble()
    yield double
    double.stop()


def _client(company: CompanyDouble, tmp_path: Path, ttl: float) -> tuple[GrpcCompanyDirectory, ChannelFactory]:
    channels = ChannelFactory(2.0, dev_service_tokens(tmp_path / "keys", TEST_ISSUER, "program"))
    stub = channels.stub(company.target, company_pb2_grpc.CompanyServiceStub)
    return GrpcCompanyDirectory(stub, InMemoryCache(), ttl), channels


def test_the_grpc_client_answers_as_the_fake_does(company: CompanyDouble, tmp_path: Path) -> None:
    client, channels = _client(company, tmp_path, ttl=0.0)
    fake = FakeCompanies()
    try:
        directories: list[CompanyDirectory] = [client, fake]
        for grant in (company.grant, fake.grant):
            grant(ACME, "kc-ed", PageRole.EDITOR)
        company.names[ACME] = fake.names[ACME] = "Acme Software"
        for directory in directories:
            assert directory.role(ACME, "kc-ed", PagePermission.EDIT) == (True, PageRole.EDITOR)
            assert directory.role(ACME, "kc-ed", PagePermission.DELETE) == (False, PageRole.EDITOR)
            assert directory.role(ACME, "kc-nobody", PagePermission.VIEW_PRIVATE) == (False, None)
            assert directory.require(ACME, "kc-ed", PagePermission.EDIT) is PageRole.EDITOR
            denied = failure(lambda: directory.require(ACME, "kc-nobody", PagePermission.EDIT))  # noqa: B023
            assert denied == Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
            assert directory.display_name(ACME) == "Acme Software"
            assert directory.display_name("companies/unknown") == ""  # never fails the caller
        # Every call carried this service's own token, never a user's.
        assert company.calls and all(roles == frozenset({"service"}) for _, roles in company.calls)
        company.down = fake.down = True
        for directory in directories:
            down = failure(lambda: directory.role(ACME, "kc-ed", PagePermission.EDIT))  # noqa: B023
            assert down.code == grpc.StatusCode.UNAVAILABLE
            assert directory.display_name(ACME) == ""
    finally:
        channels.close()


def test_access_answers_are_cached(company: CompanyDouble, tmp_path: Path) -> None:
    client, channels = _client(company, tmp_path, ttl=30.0)
    try:
        company.grant(ACME, "kc-ed", PageRole.EDITOR)
        assert client.role(ACME, "kc-ed", PagePermission.EDIT) == (True, PageRole.EDITOR)
        company.roles.clear()
        assert client.role(ACME, "kc-ed", PagePermission.EDIT) == (True, PageRole.EDITOR)  # from the cache
        assert [method for method, _ in company.calls] == ["CheckPageAccess"]
    finally:
        channels.close()

"""Fixtures of the matching service's transport tests: in-test page services (gRPC doubles answering
CheckPageAccess and BatchGet*), a real matching server on PostgreSQL, callers with dev tokens.

The use cases are tested without I/O on `tests/fakes.py`; see `tests/unit`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.matching.v1 import matching_pb2_grpc
from devinsider.program.v1 import program_pb2
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.entitlements import Entitlements
from devinsider_common.pages.roles import PagePermission, PageRole, allows
from devinsider_common.testing.entitlements import billing_handler
from devinsider_common.testing.services import base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory
from matching_service.bootstrap import MatchingService, start
from matching_service.settings import MatchingSettings

# -- page services doubles -------------------------------------------------------------------------


@dataclass
class FakePage:
    name: str
    display_name: str = ""
    active: bool = True
    program_complete: bool = True
    investor_complete: bool = True
    vendor_company: str = ""
    logo_url: str = ""
    # The page's own fields matching takes its facts from, as its proto message takes them (`industries`,
    # `country_codes`, `financials`...).
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageWorld:
    """What the company, investor and program services know: pages, members, and calls received."""

    pages: dict[str, FakePage] = field(default_factory=dict)
    members: dict[str, dict[str, PageRole]] = field(default_factory=dict)
    batch_calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    access_calls: int = 0
    caps: dict[str, int] = field(default_factory=dict)  # billing's match cap of each page (none: no cap)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, owner: str = "", **fields: object) -> FakePage:
        page = FakePage(name, display_name=str(fields.pop("display_name", name.split("/")[1])), **fields)  # type: ignore[arg-type]
        self.pages[name] = page
        if owner:
            self.members.setdefault(name, {})[owner] = PageRole.OWNER
        return page

    def check(self, page: str, subject: str, permission: int) -> tuple[bool, int]:
        with self.lock:
            self.access_calls += 1
        role = self.members.get(page, {}).get(subject) if page in self.pages else None
        return allows(role, PagePermission(permission)), int(role) if role else 0

    def batch(self, kind: str, names: list[str]) -> list[FakePage]:
        with self.lock:
            self.batch_calls.append((kind, tuple(names)))
        return [self.pages[n] for n in names if n in self.pages]


def _handler(service: str, methods: dict[str, tuple[Callable[[Any], Any], type[Any]]]) -> grpc.GenericRpcHandler:
    """A generic handler serving only `methods` of `service` (the rest answer UNIMPLEMENTED)."""
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        name: grpc.unary_unary_rpc_method_handler(
            lambda request, context, fn=fn: fn(request),
            request_deserializer=request_class.FromString,
            response_serializer=lambda message: message.SerializeToString(),
        )
        for name, (fn, request_class) in methods.items()
    }
    return grpc.method_handlers_generic_handler(service, handlers)


def page_service_handlers(world: PageWorld) -> list[grpc.GenericRpcHandler]:
    def access(response_class: type[Any]) -> Callable[[Any], Any]:
        def check(request: Any) -> Any:
            allowed, role = world.check(request.page, request.subject, request.permission)
            return response_class(allowed=allowed, role=role, cache_ttl_seconds=1)

        return check

    def companies(request: company_pb2.BatchGetCompaniesRequest) -> company_pb2.BatchGetCompaniesResponse:
        return company_pb2.BatchGetCompaniesResponse(
            companies=[
                company_pb2.Company(
                    name=p.name,
                    display_name=p.display_name,
                    logo_url=p.logo_url,
                    state=company_pb2.COMPANY_STATE_ACTIVE if p.active else company_pb2.COMPANY_STATE_PRE_LISTED,
                    completeness=company_pb2.CompanyCompleteness(
                        program_matchmaking=p.program_complete, investor_matchmaking=p.investor_complete
                    ),
                    **p.facts,
                )
                for p in world.batch("companies", list(request.names))
            ]
        )

    def investors(request: investor_pb2.BatchGetInvestorsRequest) -> investor_pb2.BatchGetInvestorsResponse:
        return investor_pb2.BatchGetInvestorsResponse(
            investors=[
                investor_pb2.Investor(
                    name=p.name,
                    display_name=p.display_name,
                    logo_url=p.logo_url,
                    state=investor_pb2.INVESTOR_STATE_ACTIVE if p.active else investor_pb2.INVESTOR_STATE_DELETED,
                    **p.facts,
                )
                for p in world.batch("investors", list(request.names))
            ]
        )

    def programs(request: program_pb2.BatchGetProgramsRequest) -> program_pb2.BatchGetProgramsResponse:
        return program_pb2.BatchGetProgramsResponse(
            programs=[
                program_pb2.Program(
                    name=p.name,
                    display_name=p.display_name,
                    logo_url=p.logo_url,
                    vendor_company=p.vendor_company,
                    state=program_pb2.PROGRAM_STATE_PUBLISHED if p.active else program_pb2.PROGRAM_STATE_DRAFT,
                    **p.facts,
                )
                for p in world.batch("programs", list(request.names))
            ]
        )

    return [
        _handler(
            "devinsider.company.v1.CompanyService",
            {
                "CheckPageAccess": (access(company_pb2.CheckPageAccessResponse), company_pb2.CheckPageAccessRequest),
                "BatchGetCompanies": (companies, company_pb2.BatchGetCompaniesRequest),
            },
        ),
        _handler(
            "devinsider.investor.v1.InvestorService",
            {
                "CheckPageAccess": (access(investor_pb2.CheckPageAccessResponse), investor_pb2.CheckPageAccessRequest),
                "BatchGetInvestors": (investors, investor_pb2.BatchGetInvestorsRequest),
            },
        ),
        _handler(
            "devinsider.program.v1.ProgramService",
            {
                "CheckPageAccess": (access(program_pb2.CheckPageAccessResponse), program_pb2.CheckPageAccessRequest),
                "BatchGetPrograms": (programs, program_pb2.BatchGetProgramsRequest),
            },
        ),
    ]


@pytest.fixture
def world() -> PageWorld:
    return PageWorld()


@pytest.fixture
def page_services(world: PageWorld) -> Iterator[str]:
    """One gRPC server playing the company, investor, program and billing services; yields its address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers(
        [
            *page_service_handlers(world),
            billing_handler(lambda page: Entitlements(match_results_visible=world.caps.get(page, 0))),
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=0)


# -- the matching service ------------------------------------------------------------------------------


def make_settings(tmp_path: Path, database_url: str, schema: str, pages: str, **overrides: object) -> MatchingSettings:
    values = base_settings(tmp_path, database_url, schema) | {
        "company_target": pages,
        "investor_target": pages,
        "program_target": pages,
        "billing_target": pages,
        "entitlements_cache_ttl_seconds": 0.0,
        "page_access_cache_ttl_seconds": 0.0,
        "index_poll_interval_seconds": 0.2,
    }
    values.update(overrides)
    return MatchingSettings(**values)  # type: ignore[arg-type]


def start_matching(settings: MatchingSettings) -> MatchingService:
    # The platform access rule (user service) is tested in libs/common; here every token passes.
    return start(settings, guard=AllowAll())


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str], page_services: str) -> MatchingSettings:
    return make_settings(tmp_path, *database, page_services)


@pytest.fixture
def service(settings: MatchingSettings) -> Iterator[MatchingService]:
    running = start_matching(settings)
    yield running
    running.stop(grace=0)


@pytest.fixture
def stub(service: MatchingService) -> Iterator[matching_pb2_grpc.MatchingServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield matching_pb2_grpc.MatchingServiceStub(channel)


@pytest.fixture
def callers(tmp_path: Path) -> CallerFactory:
    """`callers("alice", roles=("isv",))`: a Caller whose dev token the services under test accept."""
    return CallerFactory(TokenFactory(tmp_path / "keys"))

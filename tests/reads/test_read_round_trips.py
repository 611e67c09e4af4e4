"""A warm read RPC of a page service makes one round trip to PostgreSQL, counted on the wire.

Each service (company, investor, program) runs in process on its own schema, reaching PostgreSQL through
its own counting proxy (bench/suite/pgcount.py), with nothing else talking to the database meanwhile (no
broker, no jobs, the health probe an hour apart). After a warm-up (psycopg prepares a statement after five
runs on a connection: one extra round trip, once per connection), N calls of GetCompany (as its owner, as a
stranger, as a member of an investor page that unlocked it, as an investor outside that page, anonymously),
GetInvestor and GetProgram make N round trips: the page, the caller's role and the pages that unlocked it are
one statement, in autocommit (no BEGIN, no ROLLBACK); whether the viewer belongs to an unlocking page is the
investor service's answer, cached. ListCompanies is measured and reported, not asserted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.engine import make_url

from bench.suite.pgcount import PgCountingProxy
from company_service.adapters.tables import page_unlocks
from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.pages.unlocks import SqlUnlockStore
from devinsider_common.runtime import RunningService
from devinsider_common.testing import infra
from devinsider_common.testing.fixtures import fresh_pg_schema
from devinsider_common.testing.services import Metadata, base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory
from investor_service.bootstrap import start as start_investor
from investor_service.settings import InvestorSettings
from program_service.bootstrap import start as start_program
from program_service.settings import ProgramSettings

pytestmark = pytest.mark.postgres

WARM_UP = 30  # calls per case before counting: past psycopg's prepare threshold on every pooled connection
CALLS = 20


@dataclass
class Served:
    """A running service, its counting proxy, and a channel to it."""

    service: RunningService[Any, Any]
    proxy: PgCountingProxy
    channel: grpc.Channel

    def round_trips(self, call: Callable[[], object], calls: int = CALLS) -> tuple[int, dict[str, int]]:
        """The round trips `calls` calls make after a warm-up, and the statements they ran."""
        for _ in range(WARM_UP):
            call()
        before, ran = self.proxy.counts(), self.proxy.statements()
        for _ in range(calls):
            call()
        return (self.proxy.counts() - before).round_trips, dict(self.proxy.statements() - ran)


@dataclass
class Pages:
    company: Served
    investor: Served
    program: Served
    callers: CallerFactory
    names: dict[str, str]  # company, investor, program -> resource name

    def who(self, subject: str, *roles: str) -> Metadata:
        return self.callers(subject, roles=roles).metadata


def _serve(stack: ExitStack, tmp: Path, start: Callable[[dict[str, Any]], RunningService[Any, Any]]) -> Served:
    """A service `start` runs on the given settings values: a fresh schema, reached through its own proxy."""
    upstream = make_url(infra.POSTGRES_URL)
    proxy = PgCountingProxy(upstream.host or "127.0.0.1", upstream.port or 5432).start()
    stack.callback(proxy.stop)
    _, schema = stack.enter_context(fresh_pg_schema())
    url = upstream.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    service = start(base_settings(tmp, url, schema) | {"health_check_interval_seconds": 3600.0})  # no probe now
    stack.callback(service.stop, 0)
    channel = stack.enter_context(grpc.insecure_channel(f"127.0.0.1:{service.port}"))
    return Served(service, proxy, channel)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    infra.require("127.0.0.1", 5432, "PostgreSQL")
    tmp = tmp_path_factory.mktemp("reads")
    with ExitStack() as stack:
        investor = _serve(stack, tmp, lambda values: start_investor(InvestorSettings(**values), run_jobs=False))
        # The company service asks the investor service whether a viewer belongs to a page that unlocked it.
        unlocking = {"upload_dir": tmp / "uploads", "investor_target": f"127.0.0.1:{investor.service.port}"}
        company = _serve(
            stack, tmp, lambda values: start_company(CompanySettings(**values | unlocking), run_jobs=False)
        )
        program = _serve(stack, tmp, lambda values: start_program(ProgramSettings(**values), run_jobs=False))
        world = Pages(company, investor, program, CallerFactory(TokenFactory(tmp / "keys")), {})
        _seed(world)
        yield world


def _seed(world: Pages) -> None:
    """Acme (kc-alice's company), unlocked by Northwind (kc-ivan's investor page); Azure Partners (kc-olga's
    published program)."""
    companies = company_pb2_grpc.CompanyServiceStub(world.company.channel)
    investors = investor_pb2_grpc.InvestorServiceStub(world.investor.channel)
    programs = program_pb2_grpc.ProgramServiceStub(world.program.channel)
    company = company_pb2.Company(display_name="Acme", contact=company_pb2.CompanyContact(email="hq@acme.io"))
    alice = world.who("kc-alice", "isv")
    acme = companies.CreateCompany(company_pb2.CreateCompanyRequest(company=company), metadata=alice)
    investor = investor_pb2.Investor(
        display_name="Northwind",
        category=investor_pb2.INVESTOR_CATEGORY_INSTITUTIONAL,
        investor_type=investor_pb2.INVESTOR_TYPE_VENTURE_CAPITAL,
    )
    northwind = investors.CreateInvestor(
        investor_pb2.CreateInvestorRequest(investor=investor), metadata=world.who("kc-ivan", "investor")
    )
    program = program_pb2.Program(
        display_name="Azure Partners", vendor_name="Microsoft", program_type=program_pb2.PROGRAM_TYPE_TECHNOLOGY
    )
    olga = world.who("kc-olga", "program")
    azure = programs.CreateProgram(program_pb2.CreateProgramRequest(program=program), metadata=olga)
    programs.PublishProgram(program_pb2.PublishProgramRequest(name=azure.name), metadata=olga)
    # The unlock as billing's UnlockCreated would project it (billing is not running here).
    with world.company.service.engine.begin() as connection:
        unlock = f"{northwind.name}/unlocks/u1"
        target = acme.name.partition("/")[2]
        SqlUnlockStore(connection, page_unlocks).record(unlock, target, northwind.name, datetime.now(UTC))
    world.names.update(company=acme.name, investor=northwind.name, program=azure.name)


READS = {  # case -> (service, subject, realm roles, whether the caller sees it all: a member or an unlocker)
    "GetCompany as its owner": ("company", "kc-alice", ("isv",), True),
    "GetCompany as a stranger": ("company", "kc-bob", ("isv",), False),
    "GetCompany as a member of a page that unlocked it": ("company", "kc-ivan", ("investor",), True),
    "GetCompany as an investor outside that page": ("company", "kc-vic", ("investor",), False),
    "GetCompany anonymously": ("company", "", (), False),
    "GetInvestor as its owner": ("investor", "kc-ivan", ("investor",), True),
    "GetInvestor as a stranger": ("investor", "kc-bob", ("isv",), False),
    "GetProgram as its owner": ("program", "kc-olga", ("program",), True),
    "GetProgram as a stranger": ("program", "kc-bob", ("isv",), False),
}


def _get(pages: Pages, service: str, metadata: Metadata) -> tuple[Served, Callable[[], Any]]:
    """The service and its Get of the seeded page, as the caller of `metadata`."""
    name = pages.names[service]
    if service == "company":
        companies = company_pb2_grpc.CompanyServiceStub(pages.company.channel)
        return pages.company, lambda: companies.GetCompany(company_pb2.GetCompanyRequest(name=name), metadata=metadata)
    if service == "investor":
        investors = investor_pb2_grpc.InvestorServiceStub(pages.investor.channel)
        request = investor_pb2.GetInvestorRequest(name=name)
        return pages.investor, lambda: investors.GetInvestor(request, metadata=metadata)
    programs = program_pb2_grpc.ProgramServiceStub(pages.program.channel)
    return pages.program, lambda: programs.GetProgram(program_pb2.GetProgramRequest(name=name), metadata=metadata)


@pytest.mark.parametrize("case", READS)
def test_a_warm_get_is_one_round_trip(pages: Pages, case: str) -> None:
    service, subject, roles, sees_all = READS[case]
    served, get = _get(pages, service, pages.who(subject, *roles) if subject else ())
    page = get()
    assert (bool(page.viewer_role) or getattr(page, "viewer_has_full_access", False)) is sees_all
    trips, ran = served.round_trips(get)
    assert trips == CALLS, ran


def test_list_companies_and_check_page_access_are_reported(pages: Pages, capsys: pytest.CaptureFixture[str]) -> None:
    """Not asserted: ListCompanies (the window, its count, the caller's roles: one statement each, none per
    page) and CheckPageAccess (the page's existence, then the member)."""
    stub = company_pb2_grpc.CompanyServiceStub(pages.company.channel)
    listing = company_pb2.ListCompaniesRequest(page_size=10)
    alice = pages.who("kc-alice", "isv")
    access = company_pb2.CheckPageAccessRequest(
        page=pages.names["company"], subject="kc-alice", permission=page_pb2.PAGE_PERMISSION_VIEW_PRIVATE
    )
    service = pages.who("service-billing", "service")
    for rpc, call in (
        ("ListCompanies", lambda: stub.ListCompanies(listing, metadata=alice)),
        ("CheckPageAccess", lambda: stub.CheckPageAccess(access, metadata=service)),
    ):
        trips, ran = pages.company.round_trips(call)
        with capsys.disabled():
            print(f"\n{rpc}: {trips / CALLS:g} round trips a call ({len(ran)} statements)")
        assert trips >= CALLS

"""The services whose warm reads tests/reads counts, each in process on its own schema and reaching PostgreSQL
through its own counting proxy (`devinsider_common.testing.pgcount`), so that a service's count is its own
database's work only (a call it makes to another service is counted, if at all, on that service's proxy).
Nothing else talks to the databases meanwhile: no broker (no relay, no consumers), no jobs, the health probe
and matching's index poll an hour apart, and the caches of the answers of other services (page access,
billing's CheckPageAccess, the user service's blacklist) kept an hour: warm means they are filled.

A warm call is counted after a warm-up: psycopg prepares a statement after five runs on a connection (one
extra round trip, once per connection), so N calls then make N round trips when each is one statement in
autocommit (no BEGIN, no ROLLBACK). A second statement would make 2 * N: `Served.round_trips` returns the
statements the calls ran, which an assertion prints when it fails.

The world: Acme (kc-alice's company, complete for program matchmaking), unlocked by Northwind (kc-ivan's
investor page); Azure Partners (kc-olga's published program); Acme's credits (billing) and its criteria
profile, Azure's, and Azure among Acme's favorites (matching); kc-alice's user (user service).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from sqlalchemy.engine import make_url

from billing_service.bootstrap import start as start_billing
from billing_service.settings import BillingSettings
from company_service.adapters.tables import page_unlocks
from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.matching.v1 import matching_pb2, matching_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.pages.unlocks import SqlUnlockStore
from devinsider_common.runtime import RunningService
from devinsider_common.testing import infra
from devinsider_common.testing.fixtures import fresh_pg_schema
from devinsider_common.testing.pgcount import PgCountingProxy
from devinsider_common.testing.services import Metadata, base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory
from investor_service.bootstrap import start as start_investor
from investor_service.settings import InvestorSettings
from matching_service.bootstrap import start as start_matching
from matching_service.settings import MatchingSettings
from program_service.bootstrap import start as start_program
from program_service.settings import ProgramSettings
from user_service.bootstrap import start as start_user
from user_service.settings import UserSettings

WARM_UP = 30  # calls per case before counting: past psycopg's prepare threshold on every pooled connection
CALLS = 20
HOUR = 3600.0  # periodic work and cached answers: nothing of it inside a count
CREDITS = 7  # granted to Acme, expiring within billing's 30 days of "expiring soon"


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
    """The page services and the seeded pages."""

    company: Served
    investor: Served
    program: Served
    callers: CallerFactory
    names: dict[str, str] = field(default_factory=dict)  # company, investor, program -> resource name

    def who(self, subject: str, *roles: str) -> Metadata:
        return self.callers(subject, roles=roles).metadata

    def target(self, kind: str) -> str:
        return f"127.0.0.1:{getattr(self, kind).service.port}"


def _serve(stack: ExitStack, tmp: Path, start: Callable[[dict[str, Any]], RunningService[Any, Any]]) -> Served:
    """A service `start` runs on the given settings values: a fresh schema, reached through its own proxy."""
    upstream = make_url(infra.POSTGRES_URL)
    proxy = PgCountingProxy(upstream.host or "127.0.0.1", upstream.port or 5432).start()
    stack.callback(proxy.stop)
    _, schema = stack.enter_context(fresh_pg_schema())
    url = upstream.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    service = start(base_settings(tmp, url, schema) | {"health_check_interval_seconds": HOUR})
    stack.callback(service.stop, 0)
    channel = stack.enter_context(grpc.insecure_channel(f"127.0.0.1:{service.port}"))
    return Served(service, proxy, channel)


@pytest.fixture(scope="session")
def reads_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    infra.require("127.0.0.1", 5432, "PostgreSQL")
    return tmp_path_factory.mktemp("reads")


@pytest.fixture(scope="session")
def reads_callers(reads_tmp: Path) -> CallerFactory:
    """Callers with dev tokens every service here accepts (their keys in `reads_tmp`)."""
    return CallerFactory(TokenFactory(reads_tmp / "keys"))


@pytest.fixture(scope="session")
def pages(reads_tmp: Path, reads_callers: CallerFactory) -> Iterator[Pages]:
    tmp = reads_tmp
    with ExitStack() as stack:
        investor = _serve(stack, tmp, lambda values: start_investor(InvestorSettings(**values), run_jobs=False))
        # The company service asks the investor service whether a viewer belongs to a page that unlocked it.
        unlocking = {"upload_dir": tmp / "uploads", "investor_target": f"127.0.0.1:{investor.service.port}"}
        company = _serve(
            stack, tmp, lambda values: start_company(CompanySettings(**values | unlocking), run_jobs=False)
        )
        program = _serve(stack, tmp, lambda values: start_program(ProgramSettings(**values), run_jobs=False))
        world = Pages(company, investor, program, reads_callers)
        _seed_pages(world)
        yield world


def _seed_pages(world: Pages) -> None:
    companies = company_pb2_grpc.CompanyServiceStub(world.company.channel)
    investors = investor_pb2_grpc.InvestorServiceStub(world.investor.channel)
    programs = program_pb2_grpc.ProgramServiceStub(world.program.channel)
    company = company_pb2.Company(  # what program matchmaking asks of a company page (its domain/rules.py)
        display_name="Acme",
        description="Analytics for factories.",
        website_url="https://www.acme.io",
        hq_country_code="FR",
        company_size=company_pb2.COMPANY_SIZE_11_50,
        industries=["fintech"],
        solution_categories=["ai_ml"],
        target_regions=["europe"],
        licensing_models=[company_pb2.LICENSING_MODEL_SAAS],
        distribution_channels=[company_pb2.DISTRIBUTION_CHANNEL_DIRECT],
        contact=company_pb2.CompanyContact(email="hq@acme.io"),
    )
    acme = companies.CreateCompany(
        company_pb2.CreateCompanyRequest(company=company), metadata=world.who("kc-alice", "isv")
    )
    assert acme.completeness.program_matchmaking
    investor = investor_pb2.Investor(
        display_name="Northwind",
        category=investor_pb2.INVESTOR_CATEGORY_INSTITUTIONAL,
        investor_type=investor_pb2.INVESTOR_TYPE_VENTURE_CAPITAL,
    )
    northwind = investors.CreateInvestor(
        investor_pb2.CreateInvestorRequest(investor=investor), metadata=world.who("kc-ivan", "investor")
    )
    program = program_pb2.Program(
        display_name="Azure Partners",
        vendor_name="Microsoft",
        program_type=program_pb2.PROGRAM_TYPE_TECHNOLOGY,
        industries=["fintech"],
        country_codes=["FR"],
    )
    olga = world.who("kc-olga", "program")
    azure = programs.CreateProgram(program_pb2.CreateProgramRequest(program=program), metadata=olga)
    programs.PublishProgram(program_pb2.PublishProgramRequest(name=azure.name), metadata=olga)
    # The unlock as billing's UnlockCreated would project it (no broker here).
    with world.company.service.engine.begin() as connection:
        unlock = f"{northwind.name}/unlocks/u1"
        target = acme.name.partition("/")[2]
        SqlUnlockStore(connection, page_unlocks).record(unlock, target, northwind.name, datetime.now(UTC))
    world.names.update(company=acme.name, investor=northwind.name, program=azure.name)


@pytest.fixture(scope="session")
def billing(pages: Pages, reads_tmp: Path) -> Iterator[Served]:
    """Billing (its page permissions from the page services), with CREDITS granted to Acme."""
    neighbours = {f"{kind}_target": pages.target(kind) for kind in ("company", "investor", "program")}
    quiet = {"remote_cache_ttl_seconds": HOUR, "billing_job_interval_seconds": HOUR}  # matching: never asked
    with ExitStack() as stack:
        served = _serve(stack, reads_tmp, lambda values: start_billing(BillingSettings(**values | neighbours | quiet)))
        expires = timestamp_pb2.Timestamp()
        expires.FromDatetime(datetime.now(UTC) + timedelta(days=10))
        entry = billing_pb2.LedgerEntry(kind=billing_pb2.LEDGER_ENTRY_KIND_GRANT, credits=CREDITS, expire_time=expires)
        grant = billing_pb2.CreateLedgerEntryRequest(parent=pages.names["company"], ledger_entry=entry, request_id="g1")
        billing_pb2_grpc.BillingServiceStub(served.channel).CreateLedgerEntry(
            grant, metadata=pages.who("kc-root", "admin")
        )
        yield served


@pytest.fixture(scope="session")
def matching(pages: Pages, reads_tmp: Path) -> Iterator[Served]:
    """Matching (permissions, statuses and summaries from the page services; no billing: no match cap), with
    the criteria profiles of Acme and Azure, and Azure among Acme's favorites."""
    neighbours = {f"{kind}_target": pages.target(kind) for kind in ("company", "investor", "program")}
    quiet = {"page_access_cache_ttl_seconds": HOUR, "index_poll_interval_seconds": HOUR}
    with ExitStack() as stack:
        served = _serve(
            stack,
            reads_tmp,
            lambda values: start_matching(MatchingSettings(**values | neighbours | quiet), run_jobs=False),
        )
        stub = matching_pb2_grpc.MatchingServiceStub(served.channel)
        acme, azure = pages.names["company"], pages.names["program"]
        for page, owner in ((acme, pages.who("kc-alice", "isv")), (azure, pages.who("kc-olga", "program"))):
            profile = matching_pb2.CriteriaProfile(name=f"{page}/criteriaProfile")  # the page's own facts
            mask = field_mask_pb2.FieldMask(paths=["criteria"])
            update = matching_pb2.UpdateCriteriaProfileRequest(criteria_profile=profile, update_mask=mask)
            stub.UpdateCriteriaProfile(update, metadata=owner)
        favorite = matching_pb2.Favorite(page=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name=azure))
        request = matching_pb2.CreateFavoriteRequest(parent=acme, favorite=favorite)
        stub.CreateFavorite(request, metadata=pages.who("kc-alice", "isv"))
        yield served


@pytest.fixture(scope="session")
def user(reads_tmp: Path) -> Iterator[Served]:
    """The user service (its own blacklist is its access rule, cached an hour)."""
    quiet = {"access_cache_ttl_seconds": HOUR}
    with ExitStack() as stack:
        yield _serve(stack, reads_tmp, lambda values: start_user(UserSettings(**values | quiet), run_jobs=False))

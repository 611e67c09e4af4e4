"""Billing with the REAL company, investor, program and matching services (in process, real gRPC).

Pages and members are created through those services' own APIs; billing asks their
CheckPageAccess (and matching's CheckBlocked) with its service identity. The company service learns
of the unlock from billing's UnlockCreated (outbox relay -> a real RabbitMQ vhost -> its projection)
and asks the program service whether the viewer is a member of the unlocking page.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from billing_service.bootstrap import start as start_billing
from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.matching.v1 import matching_pb2, matching_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import failure
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.services import TEST_ISSUER, bearer
from devinsider_common.testing.tokens import TokenFactory
from investor_service.bootstrap import start as start_investor
from investor_service.settings import InvestorSettings
from matching_service.bootstrap import start as start_matching
from matching_service.settings import MatchingSettings
from program_service.bootstrap import start as start_program
from program_service.settings import ProgramSettings

from ..conftest import make_settings
from ..helpers import balance, grant, unlock


@dataclass
class World:
    billing: billing_pb2_grpc.BillingServiceStub
    companies: company_pb2_grpc.CompanyServiceStub
    investors: investor_pb2_grpc.InvestorServiceStub
    programs: program_pb2_grpc.ProgramServiceStub
    matching: matching_pb2_grpc.MatchingServiceStub


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def world(tmp_path: Path, database: tuple[str, str], amqp_url: str) -> Iterator[World]:
    common: dict[str, object] = {
        "grpc_port": 0,
        "health_check_interval_seconds": 0.5,
        "shutdown_grace_seconds": 1.0,
        "auth": AuthSettings(issuer=TEST_ISSUER, dev_key_dir=tmp_path / "keys"),
        "broker": BrokerSettings(amqp_url=""),
        "user_target": "",  # no user service here
    }

    def sqlite(name: str) -> dict[str, object]:
        return {**common, "database_url": f"sqlite+pysqlite:///{tmp_path / name}.sqlite3", "database_schema": name}

    # Billing publishes its events and the company service consumes the unlocks, on one vhost.
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)
    # Ports chosen first: the company service asks the investor and program services (unlockers' members).
    investor_port, program_port = _free_port(), _free_port()
    company = start_company(
        CompanySettings(
            **sqlite("company") | {"broker": broker},  # type: ignore[arg-type]
            upload_dir=tmp_path / "uploads",
            investor_target=f"127.0.0.1:{investor_port}",
            program_target=f"127.0.0.1:{program_port}",
            unlock_cache_ttl_seconds=0.0,
            page_access_cache_ttl_seconds=0,
        ),
        run_jobs=False,
    )
    company_target = f"127.0.0.1:{company.port}"
    investor = start_investor(
        InvestorSettings(**sqlite("investor") | {"grpc_port": investor_port}),  # type: ignore[arg-type]
        run_jobs=False,
    )
    program = start_program(
        ProgramSettings(**sqlite("program") | {"grpc_port": program_port}, company_target=company_target),  # type: ignore[arg-type]
        guard=AllowAll(),
    )
    targets = {
        "company_target": company_target,
        "investor_target": f"127.0.0.1:{investor.port}",
        "program_target": f"127.0.0.1:{program.port}",
    }
    matching = start_matching(
        MatchingSettings(**sqlite("matching"), **targets),  # type: ignore[arg-type]
        guard=AllowAll(),
    )
    billing = start_billing(
        make_settings(
            tmp_path,
            *database,
            "unused",
            broker=broker,
            company_target=company_target,
            investor_target=targets["investor_target"],
            program_target=targets["program_target"],
            matching_target=f"127.0.0.1:{matching.port}",
        ),
        clock=FakeClock(),
    )
    assert company.wait_until_consuming(30), "the company service's consumer did not connect"
    channels = [grpc.insecure_channel(f"127.0.0.1:{s.port}") for s in (billing, company, investor, program, matching)]
    try:
        yield World(
            billing_pb2_grpc.BillingServiceStub(channels[0]),
            company_pb2_grpc.CompanyServiceStub(channels[1]),
            investor_pb2_grpc.InvestorServiceStub(channels[2]),
            program_pb2_grpc.ProgramServiceStub(channels[3]),
            matching_pb2_grpc.MatchingServiceStub(channels[4]),
        )
    finally:
        for channel in channels:
            channel.close()
        for service in (billing, matching, program, investor, company):
            service.stop(grace=0)


def test_unlocks_against_the_real_page_and_matching_services(world: World, tokens: TokenFactory) -> None:
    alice, pat, ivan, vera = (
        tokens("kc-alice"),
        tokens("kc-pat", roles=("program",)),
        tokens("kc-ivan", roles=("investor",)),
        tokens("kc-vera", roles=("investor",)),
    )
    admin = tokens("kc-staff", roles=("admin",))
    acme = world.companies.CreateCompany(
        company_pb2.CreateCompanyRequest(
            company=company_pb2.Company(display_name="Acme", contact=company_pb2.CompanyContact(email="hq@acme.io"))
        ),
        metadata=bearer(alice),
    ).name
    azure = world.programs.CreateProgram(
        program_pb2.CreateProgramRequest(
            program=program_pb2.Program(
                display_name="Azure Partners", vendor_name="Microsoft", program_type=program_pb2.PROGRAM_TYPE_TECHNOLOGY
            )
        ),
        metadata=bearer(pat),
    ).name

    def investor_page(name: str, auth: str) -> str:
        page = investor_pb2.Investor(
            display_name=name,
            category=investor_pb2.INVESTOR_CATEGORY_INSTITUTIONAL,
            investor_type=investor_pb2.INVESTOR_TYPE_VENTURE_CAPITAL,
        )
        return world.investors.CreateInvestor(
            investor_pb2.CreateInvestorRequest(investor=page), metadata=bearer(auth)
        ).name

    northwind, southwind = investor_page("Northwind", ivan), investor_page("Southwind", vera)
    grant(world.billing, admin, azure, 2)
    grant(world.billing, admin, acme, 2)

    # Before the unlock the program's owner sees the public view of the company; after it, the contacts.
    before = world.companies.GetCompany(company_pb2.GetCompanyRequest(name=acme), metadata=bearer(pat))
    assert not before.viewer_has_full_access and not before.HasField("contact")
    done = unlock(world.billing, pat, acme, "u1", parent=azure)
    assert done.cost == 1 and balance(world.billing, pat, azure) == 1

    def seen() -> company_pb2.Company:
        return world.companies.GetCompany(company_pb2.GetCompanyRequest(name=acme), metadata=bearer(pat))

    assert wait_for(lambda: seen().viewer_has_full_access, timeout=20)  # once the event is projected
    assert seen().contact.email == "hq@acme.io"

    # The real CheckPageAccess decides: an outsider, or the company's owner on the program's page, cannot spend.
    outsider = tokens("kc-bob", roles=("program",))
    assert (
        failure(lambda: unlock(world.billing, outsider, acme, "u2", parent=azure)).code
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        failure(lambda: unlock(world.billing, alice, acme, "u3", parent=azure)).code
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert balance(world.billing, pat, azure) == 1

    # Company -> investor unlocks; matching's real CheckBlocked refuses a blocked pair.
    assert unlock(world.billing, alice, northwind, "i1", parent=acme).cost == 1
    acme_ref = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name=acme)
    world.matching.CreateBlock(
        matching_pb2.CreateBlockRequest(parent=southwind, block=matching_pb2.Block(page=acme_ref)),
        metadata=bearer(vera),
    )
    blocked = failure(lambda: unlock(world.billing, alice, southwind, "i2", parent=acme))
    assert (blocked.code, blocked.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "BLOCKED")
    assert balance(world.billing, alice, acme) == 1

    # HasUnlocked by subject: membership is asked of the program service.
    service = bearer(tokens("svc-company", roles=("service",)))
    answer = world.billing.HasUnlocked(billing_pb2.HasUnlockedRequest(target=acme, subject="kc-pat"), metadata=service)
    assert answer.unlocked and list(answer.unlockers) == [azure]
    assert not world.billing.HasUnlocked(
        billing_pb2.HasUnlockedRequest(target=acme, subject="kc-bob"), metadata=service
    ).unlocked

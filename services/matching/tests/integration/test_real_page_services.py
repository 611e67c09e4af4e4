"""Matching with the REAL company, investor and program services (in process, real gRPC).

Pages, members and publication go through those services' own APIs with dev tokens; matching asks
their CheckPageAccess for permissions and their BatchGet* for statuses and summaries, with its own
service identity. Matching runs on PostgreSQL, the page services on SQLite files (quick to start).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import grpc
import pytest
from google.protobuf import field_mask_pb2
from sqlalchemy import select

from company_service.bootstrap import CompanyService
from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from devinsider.common.v1 import mail_pb2, money_pb2, page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.matching.v1 import events_pb2, matching_pb2_grpc
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_common.testing.failures import failure
from devinsider_common.testing.services import TEST_ISSUER
from devinsider_common.testing.tokens import CallerFactory
from investor_service.bootstrap import start as start_investor
from investor_service.settings import InvestorSettings
from matching_service.bootstrap import MatchingService
from program_service.bootstrap import start as start_program
from program_service.settings import ProgramSettings

from ..conftest import make_settings, start_matching
from ..protos import COUNTRY, IND, STAGE, TECH, crit, eur, set_profile

Auth = tuple[tuple[str, str], ...]
DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass
class Platform:
    companies: company_pb2_grpc.CompanyServiceStub
    investors: investor_pb2_grpc.InvestorServiceStub
    programs: program_pb2_grpc.ProgramServiceStub
    matching: matching_pb2_grpc.MatchingServiceStub
    company_service: CompanyService
    matching_service: MatchingService


@pytest.fixture
def platform(tmp_path: Path, pg_schema: tuple[str, str]) -> Iterator[Platform]:
    common: dict[str, object] = {
        "grpc_port": 0,
        "health_check_interval_seconds": 0.5,
        "shutdown_grace_seconds": 1.0,
        "page_access_cache_ttl_seconds": 0,
        "auth": AuthSettings(issuer=TEST_ISSUER, dev_key_dir=tmp_path / "keys"),
        "broker": BrokerSettings(amqp_url=""),
        "user_target": "",  # no user service here
    }

    def sqlite(name: str) -> dict[str, object]:
        return {**common, "database_url": f"sqlite+pysqlite:///{tmp_path / name}.sqlite3", "database_schema": name}

    company = start_company(CompanySettings(**sqlite("company"), upload_dir=tmp_path / "uploads"), run_jobs=False)  # type: ignore[arg-type]
    company_target = f"127.0.0.1:{company.port}"
    investor = start_investor(InvestorSettings(**sqlite("investor")), run_jobs=False)  # type: ignore[arg-type]
    program = start_program(
        ProgramSettings(**sqlite("program"), company_target=company_target),  # type: ignore[arg-type]
        guard=AllowAll(),
        run_jobs=False,
    )
    url, schema = pg_schema
    matching = start_matching(
        make_settings(
            tmp_path,
            url,
            schema,
            "unused",
            company_target=company_target,
            investor_target=f"127.0.0.1:{investor.port}",
            program_target=f"127.0.0.1:{program.port}",
        )
    )
    channels = [grpc.insecure_channel(f"127.0.0.1:{s.port}") for s in (company, investor, program, matching)]
    try:
        yield Platform(
            company_pb2_grpc.CompanyServiceStub(channels[0]),
            investor_pb2_grpc.InvestorServiceStub(channels[1]),
            program_pb2_grpc.ProgramServiceStub(channels[2]),
            matching_pb2_grpc.MatchingServiceStub(channels[3]),
            company,
            matching,
        )
    finally:
        for channel in channels:
            channel.close()
        for service in (matching, program, investor, company):
            service.stop(grace=0)


def _complete_company() -> company_pb2.Company:
    """Everything the company service asks for program and investor matchmaking (`domain/rules.py`)."""
    return company_pb2.Company(
        display_name="Acme Analytics",
        description="We build analytics for factories.",
        website_url="https://www.acme.io",
        hq_country_code="FR",
        founding_year=2015,
        company_size=company_pb2.COMPANY_SIZE_11_50,
        industries=["fintech", "retail"],
        solution_categories=["ai_ml", "analytics"],  # analytics: no code of the taxonomy, it scores nothing
        target_regions=["europe"],
        licensing_models=[company_pb2.LICENSING_MODEL_SAAS],
        distribution_channels=[company_pb2.DISTRIBUTION_CHANNEL_DIRECT],
        contact=company_pb2.CompanyContact(email="hq@acme.io"),
        financials=company_pb2.CompanyFinancials(
            revenue_range=company_pb2.REVENUE_RANGE_1M_5M,
            looking_for_funding=True,
            funding_target=money_pb2.Money(currency_code="EUR", amount_minor=2_000_000),
        ),
        pitch=company_pb2.CompanyPitch(pain_point="Blind plants", differentiator="Fast", team="Ten engineers"),
    )


def _invitation_token(company: CompanyService, invitation: str) -> str:
    """The one-time token of an invitation, as the invitee finds it in the mail (the company's outbox)."""
    query = select(outbox_messages.c.body).where(outbox_messages.c.event_type == "devinsider.common.v1.MailRequested")
    with company.engine.connect() as connection:
        mails = [
            unpack_payload(from_json(body), mail_pb2.MailRequested) for body in connection.execute(query).scalars()
        ]
    for mail in mails:
        params = parse_qs(urlparse(mail.variables.get("accept_url", "")).query)
        if params.get("invitation") == [invitation]:
            return params["token"][0]
    raise AssertionError(f"no invitation mail for {invitation}")


def _match_found(matching: MatchingService) -> list[events_pb2.MatchFound]:
    query = select(outbox_messages.c.body).where(outbox_messages.c.event_type == "devinsider.matching.v1.MatchFound")
    with matching.engine.connect() as connection:
        return [unpack_payload(from_json(b), events_pb2.MatchFound) for b in connection.execute(query).scalars()]


def test_matching_against_the_real_page_services(platform: Platform, callers: CallerFactory) -> None:
    alice, bob, eve = callers("kc-alice").metadata, callers("kc-bob").metadata, callers("kc-eve").metadata
    pat, ivan = callers("kc-pat", ("program",)).metadata, callers("kc-ivan", ("investor",)).metadata
    service = callers("svc-billing", ("service",)).metadata
    p = platform

    # -- pages through their own services ------------------------------------------------------------
    company = p.companies.CreateCompany(company_pb2.CreateCompanyRequest(company=_complete_company()), metadata=alice)
    assert company.completeness.program_matchmaking and company.completeness.investor_matchmaking
    acme = company.name
    invitation = p.companies.CreateInvitation(
        company_pb2.CreateInvitationRequest(
            parent=acme, invitation=company_pb2.Invitation(email="kc-bob@example.com", role=page_pb2.PAGE_ROLE_EDITOR)
        ),
        metadata=alice,
    )
    accept = company_pb2.AcceptInvitationRequest(
        name=invitation.name, token=_invitation_token(p.company_service, invitation.name)
    )
    p.companies.AcceptInvitation(accept, metadata=bob)

    def new_program(display_name: str) -> str:
        created = program_pb2.Program(
            display_name=display_name,
            vendor_name="Microsoft",
            program_type=program_pb2.PROGRAM_TYPE_TECHNOLOGY,
            industries=["fintech"],
            country_codes=["FR"],
        )
        return p.programs.CreateProgram(program_pb2.CreateProgramRequest(program=created), metadata=pat).name

    azure, draft = new_program("Azure Partners"), new_program("Draft Partners")
    published = p.programs.PublishProgram(program_pb2.PublishProgramRequest(name=azure), metadata=pat)
    assert published.state == program_pb2.PROGRAM_STATE_PUBLISHED
    investor = investor_pb2.Investor(
        display_name="Northwind Ventures",
        category=investor_pb2.INVESTOR_CATEGORY_INSTITUTIONAL,
        investor_type=investor_pb2.INVESTOR_TYPE_VENTURE_CAPITAL,
        funding_stages=["series_a"],
        ticket_min=eur(1_000_000),
        ticket_max=eur(3_000_000),
    )
    northwind = p.investors.CreateInvestor(investor_pb2.CreateInvestorRequest(investor=investor), metadata=ivan).name

    # -- (a) the company's real CheckPageAccess decides who may set its criteria -------------------------
    company_criteria = crit(STAGE, "seed")  # the rest is the page's
    assert failure(lambda: set_profile(p.matching, acme, eve, company_criteria)).code == DENIED
    assert (
        failure(lambda: set_profile(p.matching, acme, pat, company_criteria)).code == DENIED
    )  # a program's owner is no member of the company either
    saved = set_profile(p.matching, acme, bob, company_criteria)  # the editor may
    # What the real company page holds, read from its service, as matching scores it.
    assert saved.page.name == acme and {c.dimension: list(c.codes) for c in saved.criteria} == {
        IND: ["fintech", "retail"],
        TECH: ["ai_ml"],
        COUNTRY: ["FR", "europe"],
        pb.DIMENSION_COMPANY_SIZE: ["11_50"],
        pb.DIMENSION_REVENUE_RANGE: ["1m_5m"],
        STAGE: ["seed"],
    }
    assert (saved.funding_need.looking_for_funding, saved.funding_need.amount) == (True, eur(2_000_000))
    assert (
        failure(lambda: set_profile(p.matching, azure, bob)).code == DENIED
    )  # and the company's editor is no member of the program
    set_profile(p.matching, azure, pat)
    set_profile(p.matching, draft, pat)
    vc = set_profile(p.matching, northwind, ivan, ticket_range=pb.TicketRange(required=False))
    assert (vc.ticket_range.min, vc.ticket_range.max) == (eur(1_000_000), eur(3_000_000))
    assert [(c.dimension, list(c.codes)) for c in vc.criteria] == [(STAGE, ["series_a"])]

    # -- (b) the published program, with its real display name and the score explained ---------------
    programs = pb.ListCompanyMatchesRequest(parent=acme, target_kind=page_pb2.PAGE_KIND_PROGRAM, explain=True)
    listed = p.matching.ListCompanyMatches(programs, metadata=alice)
    assert [(m.summary.page.name, m.summary.display_name) for m in listed.matches] == [(azure, "Azure Partners")]
    best = listed.matches[0]
    assert best.score == pytest.approx(100.0) and listed.total_size == 1
    by_dimension = {d.dimension: d for d in best.dimensions}
    assert set(by_dimension) == {IND, COUNTRY}
    assert by_dimension[IND].weight == pytest.approx(0.6) and list(by_dimension[IND].matched) == ["fintech"]
    assert sum(d.contribution for d in best.dimensions) == pytest.approx(best.score)
    reverse = p.matching.ListProgramMatches(pb.ListProgramMatchesRequest(parent=azure), metadata=pat)
    assert [(m.summary.page.name, m.summary.display_name) for m in reverse.matches] == [(acme, "Acme Analytics")]
    announced = [(m.company, m.target.name, m.target_summary.display_name) for m in _match_found(p.matching_service)]
    assert (acme, azure, "Azure Partners") in announced and all(t != draft for _, t, _ in announced)

    # -- (c) the draft program is gated and not listed, until the program service publishes it ------------
    gated = p.matching.ScoreMatch(pb.ScoreMatchRequest(company=acme, target=draft), metadata=alice)
    assert (gated.eligible, gated.gate) == (False, pb.MATCH_GATE_TARGET_INACTIVE)
    assert list(p.matching.ListProgramMatches(pb.ListProgramMatchesRequest(parent=draft), metadata=pat).matches) == []
    p.programs.PublishProgram(program_pb2.PublishProgramRequest(name=draft), metadata=pat)
    scored = p.matching.ScoreMatch(pb.ScoreMatchRequest(company=acme, target=draft), metadata=alice)  # re-reads status
    assert scored.eligible and scored.score == pytest.approx(100.0)
    # A score only reads; the lists follow once the status refresh job has stored the new status.
    assert p.matching_service.app.refresher.run() >= 1
    assert {m.summary.page.name for m in p.matching.ListCompanyMatches(programs, metadata=alice).matches} == {
        azure,
        draft,
    }

    # A company page the company service does not call complete for program matchmaking is gated too.
    sketch = company_pb2.Company(display_name="Half Done", contact=company_pb2.CompanyContact(email="hi@half.io"))
    carol = callers("kc-carol").metadata  # one company page per founder
    half = p.companies.CreateCompany(company_pb2.CreateCompanyRequest(company=sketch), metadata=carol)
    assert not half.completeness.program_matchmaking
    set_profile(p.matching, half.name, carol)
    incomplete = p.matching.ScoreMatch(pb.ScoreMatchRequest(company=half.name, target=azure), metadata=carol)
    assert incomplete.gate == pb.MATCH_GATE_COMPANY_INCOMPLETE
    still = p.matching.ListProgramMatches(pb.ListProgramMatchesRequest(parent=azure), metadata=pat).matches
    assert [m.summary.page.name for m in still] == [acme]

    # -- (d) favorites and blocks across the real pages ------------------------------------------------
    azure_ref = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name=azure)
    favorite = p.matching.CreateFavorite(
        pb.CreateFavoriteRequest(parent=acme, favorite=pb.Favorite(page=azure_ref)), metadata=bob
    )
    assert favorite.summary.display_name == "Azure Partners" and favorite.creator == "kc-bob"
    assert (
        failure(
            lambda: p.matching.CreateFavorite(
                pb.CreateFavoriteRequest(parent=acme, favorite=pb.Favorite(page=azure_ref)), metadata=eve
            )
        ).code
        == DENIED
    )
    ghost = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/0000-ghost")
    assert (
        failure(
            lambda: p.matching.CreateFavorite(
                pb.CreateFavoriteRequest(parent=acme, favorite=pb.Favorite(page=ghost)), metadata=bob
            )
        ).code
        == grpc.StatusCode.NOT_FOUND
    )  # the program service does not know it
    flags = {m.summary.page.name: m.favorite for m in p.matching.ListCompanyMatches(programs, metadata=alice).matches}
    assert flags == {azure: True, draft: False}
    favorites = p.matching.ListFavorites(pb.ListFavoritesRequest(parent=acme), metadata=alice).favorites
    assert [(f.page.name, f.summary.display_name) for f in favorites] == [(azure, "Azure Partners")]

    acme_ref = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name=acme)
    block = p.matching.CreateBlock(
        pb.CreateBlockRequest(parent=azure, block=pb.Block(page=acme_ref, reason="not our market")), metadata=pat
    )
    assert block.summary.display_name == "Acme Analytics"
    assert [m.summary.page.name for m in p.matching.ListCompanyMatches(programs, metadata=alice).matches] == [draft]
    assert list(p.matching.ListProgramMatches(pb.ListProgramMatchesRequest(parent=azure), metadata=pat).matches) == []
    check = pb.CheckBlockedRequest(page_a=acme, page_b=azure)
    assert p.matching.CheckBlocked(check, metadata=service).blocked
    assert (
        failure(lambda: p.matching.DeleteBlock(pb.DeleteBlockRequest(name=block.name), metadata=alice)).code == DENIED
    )  # only the program's members may lift it
    p.matching.DeleteBlock(pb.DeleteBlockRequest(name=block.name), metadata=pat)
    assert not p.matching.CheckBlocked(check, metadata=service).blocked
    assert len(p.matching.ListCompanyMatches(programs, metadata=alice).matches) == 2

    # -- (e) the investor side: a company looking for funding finds the investor, and the reverse ---------
    investors = pb.ListCompanyMatchesRequest(parent=acme, target_kind=page_pb2.PAGE_KIND_INVESTOR, explain=True)
    found = p.matching.ListCompanyMatches(investors, metadata=alice).matches
    assert [(m.summary.page.name, m.summary.display_name) for m in found] == [(northwind, "Northwind Ventures")]
    assert found[0].score == pytest.approx(75.0)  # stage: a neighbouring step (0.5 x 3); amount in the ticket (1 x 3)
    assert sum(d.contribution for d in found[0].dimensions) == pytest.approx(75.0)
    companies = p.matching.ListInvestorMatches(pb.ListInvestorMatchesRequest(parent=northwind), metadata=ivan).matches
    assert [(m.summary.page.name, m.summary.display_name) for m in companies] == [(acme, "Acme Analytics")]
    assert (
        failure(
            lambda: p.matching.ListInvestorMatches(pb.ListInvestorMatchesRequest(parent=northwind), metadata=alice)
        ).code
        == DENIED
    )  # the investor's list is its members' only
    # The company stops looking for funding on its page: no longer complete for investor matchmaking.
    stopped = company_pb2.Company(name=acme, financials=company_pb2.CompanyFinancials(looking_for_funding=False))
    mask = field_mask_pb2.FieldMask(paths=["financials.looking_for_funding"])
    p.companies.UpdateCompany(company_pb2.UpdateCompanyRequest(company=stopped, update_mask=mask), metadata=alice)
    gate = p.matching.ScoreMatch(pb.ScoreMatchRequest(company=acme, target=northwind), metadata=alice).gate
    assert gate == pb.MATCH_GATE_COMPANY_INCOMPLETE  # a score reads the page at once
    assert p.matching_service.app.refresher.run() >= 1  # lists, once the status and facts are stored
    assert list(p.matching.ListCompanyMatches(investors, metadata=alice).matches) == []
    profile = p.matching.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name=f"{acme}/criteriaProfile"), metadata=bob)
    assert not profile.funding_need.looking_for_funding

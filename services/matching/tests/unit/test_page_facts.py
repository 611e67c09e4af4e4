"""Matching follows the pages: each page kind's facts as its service gives them, the effective profile
(the page's facts over the stored profile), a facts change counting as a change, and the profiles stored
before migration 0004 (their own values score until the page's facts are first known, then are dropped)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from devinsider.common.v1 import money_pb2
from devinsider.company.v1 import company_pb2
from devinsider.company.v1 import events_pb2 as company_events
from devinsider.investor.v1 import investor_pb2
from devinsider.program.v1 import program_pb2
from devinsider_common.consumer import Delivery
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.pages.names import PageKind
from matching_service.adapters.page_directory import company_status, investor_status, program_status
from matching_service.domain.facts import PageFacts, effective_profile, own_values
from matching_service.domain.matches import MatchFilters
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import MAX_AMOUNT_MINOR, Criteria, CriteriaProfile, FundingNeed, Money, TicketRange
from matching_service.domain.taxonomy import Dimension
from matching_service.service_layer.page_events import QUEUE

from ..fakes import World, seed_taxonomy
from .helpers import ALICE, COUNTRY, IND, MODEL, PARTNER, PAT, REVENUE, SIZE, STAGE, TECH, eur, page, profile

TAX = seed_taxonomy()
ACME, PROG = "companies/acme", "programs/p"


def money(amount: int, currency: str = "eur") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, amount_minor=amount)


# -- each kind of page, as its service gives it ------------------------------------------------------------


def test_a_company_page_gives_its_industries_categories_markets_size_revenue_and_funding_need() -> None:
    status = company_status(
        company_pb2.Company(
            name=ACME,
            hq_country_code="fr",
            industries=["Fintech", "retail", "fintech"],
            solution_categories=["ai_ml", "analytics"],  # a category the taxonomy lacks is kept, scores nothing
            target_country_codes=["DE", "FR"],
            target_regions=["Europe", " "],
            company_size=company_pb2.COMPANY_SIZE_1001_PLUS,
            financials=company_pb2.CompanyFinancials(
                revenue_range=company_pb2.REVENUE_RANGE_PRE_REVENUE, looking_for_funding=True, funding_target=money(9)
            ),
        )
    )
    assert status.facts == PageFacts(
        {
            IND: ("fintech", "retail"),
            TECH: ("ai_ml", "analytics"),
            COUNTRY: ("FR", "DE", "europe"),
            SIZE: ("1001_plus",),
            REVENUE: ("pre_revenue",),
        },
        FundingNeed(True, Money("EUR", 9)),
    )
    newer = company_pb2.Company(name=ACME, company_size=99)  # type: ignore[arg-type]  # a size newer than these protos
    bare = company_status(newer)
    assert bare.facts == PageFacts({}, FundingNeed(False, None))


def test_an_investor_page_gives_its_targets_and_ticket_bounds() -> None:
    status = investor_status(
        investor_pb2.Investor(
            name="investors/vc",
            industries=["healthtech"],
            solution_categories=["iot"],
            country_codes=["us"],
            regions=["europe"],
            funding_stages=["seed", "SERIES_A"],
            ticket_min=money(100),
        )
    )
    assert status.facts == PageFacts(
        {IND: ("healthtech",), TECH: ("iot",), COUNTRY: ("US", "europe"), STAGE: ("seed", "series_a")},
        ticket_min=Money("EUR", 100),
    )


def test_a_program_page_gives_its_targets() -> None:
    status = program_status(
        program_pb2.Program(
            name=PROG, industries=["edtech"], solution_categories=["crm"], country_codes=["BR"], regions=["africa"]
        )
    )
    assert status.facts == PageFacts({IND: ("edtech",), TECH: ("crm",), COUNTRY: ("BR", "africa")})


# -- the effective profile -----------------------------------------------------------------------------


def test_the_page_replaces_what_it_holds_and_the_profile_keeps_the_rest() -> None:
    stored = profile(PROG, {IND: Criteria((), True), COUNTRY: ("FR",), PARTNER: ("reseller",), SIZE: ("1_10",)})
    facts = PageFacts({IND: ("fintech", "spacetech"), TECH: ("ai_ml",)})
    assert effective_profile(stored, facts, TAX).criteria == {
        IND: Criteria(("fintech",), True),  # the page's codes the taxonomy knows, the profile's flag
        TECH: Criteria(("ai_ml",)),
        PARTNER: Criteria(("reseller",)),  # the profile's own dimensions
        SIZE: Criteria(("1_10",)),
    }  # and COUNTRY is gone: the page states none
    assert effective_profile(stored, None, TAX) == stored  # facts not known yet: the profile's own values


def test_a_companys_funding_need_and_an_investors_tickets_are_the_pages() -> None:
    need = FundingNeed(True, eur(5))
    legacy = profile(ACME, {STAGE: ("seed",)}, funding_need=FundingNeed(False))
    assert effective_profile(legacy, PageFacts(funding_need=need), TAX).funding_need == need
    vc = profile("investors/vc", ticket_range=TicketRange(None, None, True))
    assert effective_profile(vc, PageFacts(ticket_min=eur(10)), TAX).ticket_range == TicketRange(
        eur(10), eur(MAX_AMOUNT_MINOR), True
    )
    assert effective_profile(vc, PageFacts(ticket_max=eur(10)), TAX).ticket_range == TicketRange(eur(0), eur(10), True)
    unstated = effective_profile(vc, PageFacts(), TAX)  # no range: the flag alone, not a stated dimension
    assert unstated.ticket_range == TicketRange(None, None, True) and not unstated.states(Dimension.FUNDING_AMOUNT)


def test_a_profile_keeps_only_its_own_values_once_the_page_holds_them() -> None:
    legacy = profile(
        "investors/vc",
        {IND: ("fintech",), STAGE: Criteria(("seed",), True), MODEL: ("saas",)},
        ticket_range=TicketRange(eur(1), eur(2), True),
    )
    assert own_values(legacy) == profile(
        "investors/vc", {STAGE: Criteria((), True), MODEL: ("saas",)}, ticket_range=TicketRange(None, None, True)
    )
    company = profile(ACME, {IND: ("fintech",), STAGE: ("seed",)}, funding_need=FundingNeed(True, eur(5)))
    assert own_values(company) == profile(ACME, {STAGE: ("seed",)})
    assert own_values(own_values(company)) == own_values(company)


# -- the use cases ---------------------------------------------------------------------------------------


def scores(matching: World) -> dict[str, float]:
    listed = matching.app.matches.list_matches(PAT, page(PROG), PageKind.COMPANY, 0, "", MatchFilters())
    return {i.page.name: i.score for i in listed.items}


def edited(matching: World, name: str, seconds: float, **fields: Any) -> Delivery:
    """CompanyUpdated of `name` after its owner edited it, `seconds` from now (as the company service sends it)."""
    company = company_pb2.Company(name=name, state=company_pb2.COMPANY_STATE_ACTIVE, **fields)
    company.completeness.program_matchmaking = company.completeness.investor_matchmaking = True
    event = company_events.CompanyUpdated(company=company, changed_fields=list(fields))
    at = matching.clock.now + timedelta(seconds=seconds)
    envelope = build_envelope(event, source="company", external_id=name, occur_time=at)
    return Delivery(QUEUE, envelope.event_id, envelope, 1)


def arranged(matching: World, industry: str = "fintech") -> None:
    """A program whose page wants fintech in France, and acme: fintech (100) or another industry (40), in France."""
    matching.pages.add(PROG, owner="pat", facts=PageFacts({IND: ("fintech",), COUNTRY: ("FR",)}))
    matching.pages.add(ACME, owner="alice", facts=PageFacts({IND: (industry,), COUNTRY: ("FR",)}))
    matching.app.profiles.update(PAT, profile(PROG), {"criteria"})
    matching.app.profiles.update(ALICE, profile(ACME, {STAGE: ("seed",)}), {"criteria"})


def test_a_page_edit_is_a_change_every_replica_follows_and_scores_take(matching: World) -> None:
    arranged(matching)
    assert matching.app.follower(edited(matching, ACME, 1, industries=["fintech"], hq_country_code="FR"))
    assert scores(matching) == {ACME: 100.0}
    with matching.read() as uow:
        seq, announced = uow.changes.last_seq(), len(matching.store.events("match_found"))
    # Another field edited: nothing matching holds changed.
    same = edited(matching, ACME, 2, industries=["fintech"], hq_country_code="FR", description="Ledgers")
    assert matching.app.follower(same)
    with matching.read() as uow:
        assert uow.changes.last_seq() == seq
    # Its industries edited (the company service holds the page its event carries): a change, logged for the
    # other replicas, with its announcement round.
    matching.pages.update(ACME, facts=PageFacts({IND: ("retail",), COUNTRY: ("FR",)}))
    assert matching.app.follower(edited(matching, ACME, 3, industries=["retail"], hq_country_code="FR"))
    with matching.read() as uow:
        assert [p for _, p in uow.changes.since(seq)] == [ACME] and uow.announcements.pages() == []
    assert scores(matching) == {ACME: pytest.approx(40.0)}  # country 2 of 5; industry 0
    assert matching.app.matches.score(ALICE, page(ACME), page(PROG)).score == pytest.approx(40.0)
    assert len(matching.store.events("match_found")) == announced
    shown = matching.app.profiles.get(ALICE, page(ACME))
    assert shown.criteria == {IND: Criteria(("retail",)), COUNTRY: Criteria(("FR",)), STAGE: Criteria(("seed",))}


def test_a_page_edit_that_opens_a_pair_announces_it_once(matching: World) -> None:
    arranged(matching, industry="retail")
    assert scores(matching) == {ACME: pytest.approx(40.0)} and matching.store.events("match_found") == []
    matching.pages.update(ACME, facts=PageFacts({IND: ("fintech",), COUNTRY: ("FR",)}))
    assert matching.app.follower(edited(matching, ACME, 1, industries=["fintech"], hq_country_code="FR"))
    assert [args[:3] for _, args in matching.store.events("match_found")] == [(page(ACME), page(PROG), 100.0)]


def test_a_score_and_a_profile_read_take_the_pages_word_before_its_event(matching: World) -> None:
    arranged(matching)
    matching.pages.update(ACME, facts=PageFacts({IND: ("retail",), COUNTRY: ("FR",)}))  # its event still on its way
    assert matching.app.matches.score(ALICE, page(ACME), page(PROG)).score == pytest.approx(40.0)
    assert matching.app.profiles.get(ALICE, page(ACME)).codes(IND) == ("retail",)
    assert scores(matching) == {ACME: 100.0}  # lists follow the stored facts: the event, or the refresh


def legacy(matching: World, name: str, stored: CriteriaProfile, **status: Any) -> None:
    """A profile and a status as stored before migration 0004: the page's values in the profile, no facts."""
    with matching.read() as uow:
        uow.profiles.save(stored, exists=False)
        uow.statuses.save(
            PageStatus(page(name), active=True, program_complete=True, facts=None, **status),
            matching.clock.now,
            matching.clock.now,
        )
        uow.changes.record([name], matching.clock.now)
        uow.commit()
    matching.app.sync.catch_up()  # as the index poll does


def test_a_profile_stored_before_the_pages_facts_scores_its_own_values_until_they_are_known(matching: World) -> None:
    matching.pages.add(PROG, owner="pat", facts=PageFacts({IND: ("fintech",)}))
    matching.app.profiles.update(PAT, profile(PROG), {"criteria"})
    matching.pages.add(ACME, owner="alice", facts=PageFacts({IND: ("edtech",)}))  # what the page says now
    legacy(matching, ACME, profile(ACME, {IND: ("fintech",), STAGE: ("seed",)}, funding_need=FundingNeed(True)))
    assert scores(matching) == {ACME: 100.0}  # the upgrade changed no score
    matching.clock.advance(seconds=1)
    assert matching.app.refresher.run() == 1  # its facts arrive (or its next event brings them) ...
    assert scores(matching) == {}  # ... and the page wins: edtech
    with matching.read() as uow:  # the stored profile keeps matching's own values only
        assert uow.profiles.get(ACME) == profile(ACME, {STAGE: ("seed",)})
        assert matching.app.refresher.without_facts() == []
    assert matching.app.refresher.run() == 0


def test_an_event_brings_the_first_facts_too(matching: World) -> None:
    matching.pages.add(PROG, owner="pat", facts=PageFacts({IND: ("fintech",)}))
    matching.app.profiles.update(PAT, profile(PROG), {"criteria"})
    legacy(matching, ACME, profile(ACME, {IND: ("fintech",), PARTNER: ("oem",)}))
    assert matching.app.refresher.without_facts() == [ACME]
    assert matching.app.follower(edited(matching, ACME, 1, industries=["fintech", "retail"]))
    with matching.read() as uow:
        assert uow.profiles.get(ACME) == profile(ACME, {PARTNER: ("oem",)})
    assert scores(matching) == {ACME: 100.0}


def test_a_page_its_service_no_longer_returns_keeps_its_profile_until_its_facts_are_known(matching: World) -> None:
    legacy(matching, ACME, profile(ACME, {IND: ("fintech",)}))
    matching.clock.advance(seconds=1)
    assert matching.app.refresher.run() == 1  # inactive now, its facts still unknown
    with matching.read() as uow:
        assert uow.profiles.get(ACME) == profile(ACME, {IND: ("fintech",)})
    assert matching.app.refresher.without_facts() == [ACME]

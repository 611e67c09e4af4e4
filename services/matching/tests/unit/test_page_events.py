"""Matching follows the pages: the handler of `matching.pages` on the fakes, fed the envelopes the company,
investor and program services publish (their events, read by the same mapping as the status refresh)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from google.protobuf.message import Message

from devinsider.common.v1 import page_pb2
from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider.company.v1 import company_pb2
from devinsider.company.v1 import events_pb2 as company_events
from devinsider.investor.v1 import events_pb2 as investor_events
from devinsider.investor.v1 import investor_pb2
from devinsider.program.v1 import events_pb2 as program_events
from devinsider.program.v1 import program_pb2
from devinsider_common.consumer import Delivery, PermanentFailure
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.outbox.topology import ODOO_COMPANY, ODOO_INVESTOR, ODOO_PROGRAM
from matching_service.domain.facts import PageFacts
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import FundingNeed
from matching_service.domain.taxonomy import Dimension
from matching_service.service_layer.page_events import QUEUE, pages_queue

from ..fakes import World
from .helpers import ALICE, COUNTRY, IND, IVAN, PAT, page, set_profile

ACME, VC, PROG = "companies/acme", "investors/vc", "programs/p"
OWNERS = {ACME: ALICE, VC: IVAN, PROG: PAT}


# Every page serves fintech, as `profiled` sets it (the events carry the whole page).
def company(active: bool = True, **fields: Any) -> company_pb2.Company:
    state = company_pb2.COMPANY_STATE_ACTIVE if active else company_pb2.COMPANY_STATE_PRE_LISTED
    values: dict[str, Any] = {"display_name": "Acme", "tagline": "Ledgers", "hq_country_code": "FR"} | fields
    values.setdefault("industries", ["fintech"])
    completeness = company_pb2.CompanyCompleteness(program_matchmaking=True, investor_matchmaking=False)
    return company_pb2.Company(name=ACME, state=state, completeness=completeness, **values)


def investor(active: bool = True) -> investor_pb2.Investor:
    state = investor_pb2.INVESTOR_STATE_ACTIVE if active else investor_pb2.INVESTOR_STATE_DELETED
    return investor_pb2.Investor(
        name=VC, state=state, display_name="VC Fund", logo_url="https://l/vc.png", industries=["fintech"]
    )


def program(active: bool = True) -> program_pb2.Program:
    state = program_pb2.PROGRAM_STATE_PUBLISHED if active else program_pb2.PROGRAM_STATE_DRAFT
    return program_pb2.Program(
        name=PROG,
        state=state,
        display_name="Partner Program",
        vendor_company="companies/v",
        country_codes=["DE"],
        industries=["fintech"],
    )


# (page, created event, updated event, deleted event) as each service builds them.
def created(name: str, active: bool = True) -> Message:
    if name == ACME:
        return company_events.CompanyCreated(company=company(active), creator="kc-alice")
    if name == VC:
        return investor_events.InvestorCreated(investor=investor(active), creator="kc-ivan")
    return program_events.ProgramCreated(program=program(active), creator="kc-pat")


def updated(name: str, active: bool) -> Message:
    if name == ACME:
        return company_events.CompanyUpdated(company=company(active), changed_fields=["state"])
    if name == VC:
        return investor_events.InvestorUpdated(investor=investor(active), changed_fields=["state"])
    return program_events.ProgramUpdated(program=program(active), changed_fields=["state"])


def deleted(name: str) -> Message:
    if name == ACME:
        return company_events.CompanyDeleted(name=name, deleter="kc-alice")
    if name == VC:
        return investor_events.InvestorDeleted(name=name, deleter="kc-ivan")
    return program_events.ProgramDeleted(name=name, deleter="kc-pat")


# The status each service's page above maps to (the refresh's mapping of BatchGet*).
FINTECH = {Dimension.INDUSTRY: ("fintech",)}
EXPECTED = {
    ACME: PageStatus(
        page(ACME),
        True,
        program_complete=True,
        display_name="Acme",
        tagline="Ledgers",
        country_code="FR",
        facts=PageFacts(FINTECH | {Dimension.COUNTRY: ("FR",)}, FundingNeed(False)),
    ),
    VC: PageStatus(page(VC), True, display_name="VC Fund", logo_url="https://l/vc.png", facts=PageFacts(FINTECH)),
    PROG: PageStatus(
        page(PROG),
        True,
        vendor_company="companies/v",
        display_name="Partner Program",
        country_code="DE",
        facts=PageFacts(FINTECH | {Dimension.COUNTRY: ("DE",)}),
    ),
}
PAGES = pytest.mark.parametrize("name", [ACME, VC, PROG])


def delivery(event: Message, at: datetime, message_id: str = "", external_id: str = "") -> Delivery:
    envelope = build_envelope(event, source="page-service", external_id=external_id, occur_time=at)
    return Delivery(QUEUE, message_id or envelope.event_id, envelope, 1)


def profiled(matching: World, name: str, **status: Any) -> None:
    """The page exists in its service and has a criteria profile (so matching follows its status)."""
    matching.pages.add(name, owner=OWNERS[name].subject, **status)
    set_profile(matching, OWNERS[name], name, {IND: ("fintech",)})


def stored(matching: World, name: str) -> PageStatus | None:
    with matching.read() as uow:
        return uow.statuses.get_many([name]).get(name)


def changes(matching: World) -> list[str]:
    with matching.read() as uow:
        return [p for _, p in uow.changes.since(0)]


def snapshot(matching: World) -> dict[str, dict[Any, Any]]:
    """Every committed row, table by table."""
    return {name: dict(rows) for name, rows in matching.store.tables.items() if rows}


def later(matching: World, seconds: float = 1) -> datetime:
    return matching.clock.now + timedelta(seconds=seconds)


def test_the_queue_is_bound_to_the_page_services_exchanges_with_the_keys_they_publish_with() -> None:
    queue = pages_queue()
    assert queue.name == "matching.pages"
    assert {(b.exchange, b.routing_key) for b in queue.bindings} == {
        (ODOO_COMPANY, "odoo_company_queue"),
        (ODOO_INVESTOR, "odoo_investor_queue"),
        (ODOO_PROGRAM, "odoo_program_queue"),
    }


@PAGES
def test_a_created_page_gets_the_status_the_refresh_would_give_it(matching: World, name: str) -> None:
    profiled(matching, name, active=False, display_name="old")
    before = changes(matching)
    assert matching.app.follower(delivery(created(name), later(matching)))
    assert stored(matching, name) == EXPECTED[name]
    assert changes(matching) == [*before, name]  # every replica's index follows


@PAGES
def test_an_update_changes_the_state_both_ways(matching: World, name: str) -> None:
    profiled(matching, name)
    assert matching.app.follower(delivery(updated(name, active=False), later(matching, 1)))
    assert stored(matching, name) == PageStatus(**(vars(EXPECTED[name]) | {"active": False}))
    assert matching.app.follower(delivery(updated(name, active=True), later(matching, 2)))
    assert stored(matching, name) == EXPECTED[name]


@PAGES
def test_a_deleted_page_turns_inactive_with_its_summary_kept(matching: World, name: str) -> None:
    profiled(matching, name)
    matching.app.follower(delivery(updated(name, active=True), later(matching, 1)))
    assert matching.app.follower(delivery(deleted(name), later(matching, 2)))
    assert stored(matching, name) == PageStatus(**(vars(EXPECTED[name]) | {"active": False}))
    assert changes(matching)[-1] == name


def test_a_deleted_page_without_a_stored_status_is_stored_inactive(matching: World) -> None:
    profiled(matching, PROG)
    with matching.read() as uow:
        uow.store.tables["statuses"].clear()  # as if its service had never answered
    assert matching.app.follower(delivery(deleted(PROG), later(matching)))
    assert stored(matching, PROG) == PageStatus(page(PROG), active=False)


def test_a_program_published_by_an_event_announces_the_pair_it_opens_once(matching: World) -> None:
    matching.pages.add(ACME, owner="alice", display_name="Acme")
    set_profile(matching, ALICE, ACME, {IND: ("fintech",), COUNTRY: ("DE",)})  # what the program's page wants
    profiled(matching, PROG, active=False)  # a draft: the gates keep the pair out
    assert matching.store.events("match_found") == []
    assert matching.app.follower(delivery(updated(PROG, active=True), later(matching, 1)))
    assert [args[:2] for _, args in matching.store.events("match_found")] == [(page(ACME), page(PROG))]
    with matching.read() as uow:
        assert uow.announcements.pages() == []  # the round was drained
    matching.app.follower(delivery(updated(PROG, active=False), later(matching, 2)))
    matching.app.follower(delivery(updated(PROG, active=True), later(matching, 3)))
    assert len(matching.store.events("match_found")) == 1


def test_a_page_without_a_profile_is_not_followed(matching: World) -> None:
    matching.pages.add(PROG, owner="pat")
    assert not matching.app.follower(delivery(created(PROG), later(matching)))
    assert stored(matching, PROG) is None and changes(matching) == []
    assert matching.pages.forgotten == [PROG]  # its cached summary is dropped all the same


@PAGES
def test_each_page_event_drops_the_cached_summary_of_its_page(matching: World, name: str) -> None:
    profiled(matching, name)
    first = delivery(updated(name, active=False), later(matching, 1))
    matching.app.follower(first)
    matching.app.follower(first)  # a redelivery drops it again: harmless
    matching.app.follower(delivery(deleted(name), later(matching, 2)))
    assert matching.pages.forgotten == [name] * 3


@pytest.mark.parametrize(
    "event",
    [
        company_events.MemberAdded(member=company_pb2.Member(name=f"{ACME}/members/kc-bob")),
        company_events.InvitationSent(invitation=company_pb2.Invitation(name=f"{ACME}/invitations/i1")),
        company_events.CompanyClaimRequested(company=company(False), claimant="kc-bob"),
        investor_events.MemberRemoved(member=investor_pb2.Member(name=f"{VC}/members/kc-ivan")),
        program_events.InvitationChanged(
            invitation=program_pb2.Invitation(name=f"{PROG}/invitations/i1"),
            previous_state=page_pb2.INVITATION_STATE_PENDING,
        ),
    ],
    ids=lambda event: event.DESCRIPTOR.full_name,
)
def test_other_events_of_the_page_services_are_acknowledged_without_effect(matching: World, event: Message) -> None:
    for name in (ACME, VC, PROG):
        profiled(matching, name)
    before = snapshot(matching)
    assert not matching.app.follower(delivery(event, later(matching)))
    assert snapshot(matching) == before  # no status, no change, no inbox record
    assert matching.pages.forgotten == []  # nor a dropped summary


def test_a_redelivered_event_is_applied_once(matching: World) -> None:
    profiled(matching, PROG)
    first = delivery(updated(PROG, active=False), later(matching), message_id="m-1")
    assert matching.app.follower(first)
    after_first = (stored(matching, PROG), changes(matching))
    assert not matching.app.follower(first)  # the inbox has it: the runtime counts a duplicate
    assert (stored(matching, PROG), changes(matching)) == after_first


def test_an_older_event_after_a_newer_one_changes_nothing(matching: World) -> None:
    profiled(matching, PROG, active=False)
    newer, older = later(matching, 10), later(matching, 5)
    assert matching.app.follower(delivery(updated(PROG, active=True), newer))
    before = (changes(matching), matching.store.events())
    assert matching.app.follower(delivery(updated(PROG, active=False), older))  # handled, but stale
    assert matching.app.follower(delivery(deleted(PROG), older))
    assert stored(matching, PROG) == EXPECTED[PROG]
    assert (changes(matching), matching.store.events()) == before


def test_an_event_older_than_the_status_its_service_gave_later_changes_nothing(matching: World) -> None:
    created_at = matching.clock.now - timedelta(seconds=5)
    profiled(matching, PROG)  # the profile read the published program now
    read = stored(matching, PROG)
    assert read is not None and read.active
    assert matching.app.follower(delivery(created(PROG, active=False), created_at))  # its draft, arriving late
    assert stored(matching, PROG) == read


def test_the_refresh_never_overwrites_a_status_an_event_brought_during_its_read(matching: World) -> None:
    profiled(matching, PROG)
    matching.pages.update(PROG, active=False)  # what the refresh will read: already out of date ...
    fetch = matching.pages.statuses

    def slow_fetch(names: Any) -> dict[str, PageStatus]:
        read = fetch(names)
        matching.clock.advance(seconds=1)  # ... when the event of a later publication is consumed
        matching.app.follower(delivery(updated(PROG, active=True), matching.clock.now))
        return read

    matching.pages.statuses = slow_fetch  # type: ignore[method-assign]
    matching.clock.advance(seconds=1)
    assert matching.app.refresher.run() == 0
    assert stored(matching, PROG) == EXPECTED[PROG]


def test_the_refresh_still_repairs_a_status_whose_event_was_lost(matching: World) -> None:
    profiled(matching, PROG)
    matching.app.follower(delivery(updated(PROG, active=True), later(matching, 1)))
    matching.pages.update(PROG, active=False)  # unpublished; its event never arrives
    matching.clock.advance(seconds=5)
    assert matching.app.refresher.run() == 1
    stored_status = stored(matching, PROG)
    assert stored_status is not None and not stored_status.active


def _envelope(event: Message, *, timed: bool = True, event_type: str = "") -> EventEnvelope:
    envelope = build_envelope(event, source="company", external_id=ACME)
    if not timed:
        envelope.ClearField("occur_time")
    if event_type:
        envelope.event_type = event_type
    return envelope


@pytest.mark.parametrize(
    "envelope",
    [
        _envelope(company_events.CompanyDeleted(name="")),
        _envelope(company_events.CompanyDeleted(name="programs/p")),  # another service's page
        _envelope(company_events.CompanyUpdated(changed_fields=["state"])),  # no page
        _envelope(program_events.ProgramUpdated(program=program_pb2.Program(name="p"))),
        _envelope(company_events.CompanyDeleted(name=ACME), timed=False),  # no time to order it by
        _envelope(company_events.MemberAdded(), event_type="devinsider.company.v1.CompanyDeleted"),
    ],
    ids=["no-name", "other-kind", "no-company", "bad-program-name", "no-time", "payload-not-its-type"],
)
def test_an_event_it_cannot_read_is_a_permanent_failure(matching: World, envelope: EventEnvelope) -> None:
    profiled(matching, ACME)
    before = snapshot(matching)
    with pytest.raises(PermanentFailure):
        matching.app.follower(Delivery(QUEUE, "m-bad", envelope, 1))
    assert snapshot(matching) == before


def test_this_replicas_index_takes_the_change_at_once(matching: World, monkeypatch: pytest.MonkeyPatch) -> None:
    profiled(matching, PROG)
    monkeypatch.setattr(matching.app.announcer, "after_change", lambda page: 0)  # no drain catching up for it
    assert matching.app.follower(delivery(updated(PROG, active=False), later(matching)))
    with matching.read() as uow:
        assert matching.app.sync.seq == uow.changes.last_seq()

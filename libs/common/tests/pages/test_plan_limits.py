"""What the page services enforce of their pages' plans (billing's entitlements, faked): seats when inviting,
and the directory's criteria filters for callers browsing as a page entitled to them. On the shared use cases
and the in-memory unit of work of a minimal page service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import grpc
import pytest

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.entitlements import WHEN_UNREACHABLE, Unrestricted
from devinsider_common.pages.directory_filters import DirectoryFilterGate, ViewerMembership, plan_limits
from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.ports import ClaimsDirectory
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.seats import SeatLimit
from devinsider_common.pagination import ListLimits
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.entitlements import FakeEntitlements
from devinsider_common.testing.failures import failure
from devinsider_common.testing.memory import MemoryPage, MemoryPageUow, MemoryStore

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
PAGE = "companies/p1"
ALICE = Principal("kc-alice", frozenset({"isv"}), email="alice@acme.io", email_verified=True)
BOB = Principal("kc-bob", frozenset({"isv"}), email="bob@acme.io", email_verified=True)
EVE = Principal("kc-eve", frozenset({"investor"}), email="eve@fund.io", email_verified=True)
STAFF = Principal("kc-staff", frozenset({"admin"}), email="staff@devinsider.io")
CRITERIA = ["industries", "hq_country_codes"]


class Pages:
    """A page service of companies on the memory store: p1 owned by Alice, billing's answers faked."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.store.publish({"pages": {"p1": MemoryPage("p1", "Acme")}})
        self.uow = partial(MemoryPageUow, self.store)
        self.clock = FakeClock(NOW)
        self.billing = FakeEntitlements()
        self.remote: dict[tuple[str, str], bool] = {}  # (page, subject) -> member, for other services' pages
        self.members = PageMembers(self.uow, self.clock, ListLimits(), ClaimsDirectory())
        seats, self.filters = plan_limits(PageKind.COMPANY, self.uow, self.billing, self)
        self.invitations = PageInvitations(
            self.uow, self.clock, ListLimits(), self.members, timedelta(days=7), None, seats
        )
        with self.uow() as unit:
            unit.members.add(self.members.new_member(ALICE, "p1", PageRole.OWNER))
            unit.commit()

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        assert permission is PagePermission.VIEW_PRIVATE  # any member may browse as the page
        return self.remote.get((page, subject), False)

    def invite(self, email: str) -> str:
        return self.invitations.create(ALICE, "p1", email, PageRole.VIEWER, "").id


@pytest.fixture
def pages() -> Pages:
    return Pages()


# Seats


def test_members_and_pending_invitations_fill_the_seats(pages: Pages) -> None:
    pages.billing.set(PAGE, seats=3)
    first = pages.invite("bob@acme.io")
    pages.invite("carol@acme.io")  # Alice and two pending invitations: 3 of 3
    refused = failure(lambda: pages.invite("dan@acme.io"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "SEATS_EXHAUSTED")
    assert "3 taken by members and pending invitations" in refused.message and "lifts it" in refused.message
    with pytest.raises(errors.ResourceExhausted) as raised:
        pages.invite("dan@acme.io")
    assert raised.value.metadata["entitlement"] == "seats" and raised.value.metadata["limit"] == "3"
    assert raised.value.retry_after_seconds is None  # waiting does not free a seat
    assert pages.billing.asked[-1] == PAGE

    # A revoked or expired invitation frees its seat.
    pages.invitations.revoke(ALICE, "p1", first)
    pages.invite("dan@acme.io")
    pages.clock.advance(days=8)  # both pending invitations expired (the job has not run yet)
    pages.invite("erin@acme.io")
    pages.invite("fay@acme.io")
    assert failure(lambda: pages.invite("gus@acme.io")).reason == "SEATS_EXHAUSTED"


def test_an_accepted_invitation_keeps_its_seat_after_a_downgrade(pages: Pages) -> None:
    pages.billing.set(PAGE, seats=2)
    invitation = pages.invitations.create(ALICE, "p1", "bob@acme.io", PageRole.VIEWER, "")
    with pages.uow() as unit:
        sent = [e for e in unit.table("outbox").values() if e.kind == "InvitationSent"]
    token = str(sent[-1].details["token"])
    pages.billing.set(PAGE, seats=1)  # downgraded while the invitation was pending
    accepted = pages.invitations.accept(BOB, "p1", invitation.id, token)
    assert accepted.member_id == BOB.subject  # members are never refused nor removed by a cap
    assert failure(lambda: pages.invite("carol@acme.io")).reason == "SEATS_EXHAUSTED"


def test_zero_seats_and_an_unreachable_billing_limit_nothing(pages: Pages) -> None:
    pages.billing.set(PAGE, seats=0)
    for n in range(4):
        pages.invite(f"u{n}@acme.io")
    pages.billing.default = WHEN_UNREACHABLE  # a page billing never answered for, during an outage
    pages.billing.pages.clear()
    pages.invite("u9@acme.io")
    with pages.uow() as unit:
        assert unit.invitations.pending_count("p1", NOW) == 5 and unit.members.count("p1") == 1
    # A service run without billing has no seat limit at all.
    assert SeatLimit(PageKind.COMPANY).seats("p1") == 0


# Directory filters


def test_criteria_filters_need_a_page_of_the_caller_entitled_to_them(pages: Pages) -> None:
    gate = pages.filters
    gate.require(EVE, "", [])  # a plain search: anyone, anonymous too
    gate.require(None, "", [])
    no_page = failure(lambda: gate.require(EVE, "", CRITERIA))
    assert (no_page.code, no_page.reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECTORY_FILTERS_NOT_ENTITLED")
    assert "industries, hq_country_codes" in no_page.message and "viewer_page" in no_page.message
    anonymous = failure(lambda: gate.require(None, "investors/f1", CRITERIA))
    assert (anonymous.code, anonymous.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    bad = failure(lambda: gate.require(EVE, "users/1", CRITERIA))
    assert (bad.code, bad.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["viewer_page"])
    stranger = failure(lambda: gate.require(EVE, "investors/f1", CRITERIA))  # not her page
    assert (stranger.code, stranger.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")

    pages.remote[("investors/f1", EVE.subject)] = True  # Eve's fund, on the free tier
    free = failure(lambda: gate.require(EVE, "investors/f1", CRITERIA))
    assert (free.code, free.reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECTORY_FILTERS_NOT_ENTITLED")
    assert "the plan of investors/f1 does not include directory filters" in free.message
    with pytest.raises(errors.PermissionDenied) as raised:
        gate.require(EVE, "investors/f1", CRITERIA)
    assert raised.value.metadata == {
        "entitlement": "directory_filters",
        "upgrade": "a plan that includes more lifts it (GET /v1/plans, then a checkout)",
        "page": "investors/f1",
    }
    pages.billing.set("investors/f1", directory_filters=True)  # a paid plan
    gate.require(EVE, "investors/f1", CRITERIA)
    assert pages.billing.asked[-1] == "investors/f1"


def test_own_kind_membership_is_read_locally_and_staff_need_no_page(pages: Pages) -> None:
    pages.billing.set(PAGE, directory_filters=True)
    pages.filters.require(ALICE, PAGE, CRITERIA)  # Alice's own company, from the members table
    assert failure(lambda: pages.filters.require(BOB, PAGE, CRITERIA)).reason == "PAGE_PERMISSION_DENIED"
    assert failure(lambda: pages.filters.require(ALICE, "companies/gone", CRITERIA)).reason == "PAGE_PERMISSION_DENIED"
    pages.filters.require(STAFF, "", CRITERIA)
    assert pages.remote == {}  # no remote question for a company page


def test_without_billing_the_filters_are_open() -> None:
    membership = ViewerMembership(PageKind.COMPANY, partial(MemoryPageUow, MemoryStore()))
    DirectoryFilterGate(membership, Unrestricted()).require(EVE, "", CRITERIA)
    DirectoryFilterGate().require(None, "", CRITERIA)
    # An unreachable billing (nothing known of the page) lets a member filter too.
    pages = Pages()
    pages.billing.default = WHEN_UNREACHABLE
    pages.remote[("investors/f1", EVE.subject)] = True
    pages.filters.require(EVE, "investors/f1", CRITERIA)

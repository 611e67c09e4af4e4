"""Orphaned pages (`pages.orphans`) on the in-memory unit of work: the mark, staff's list filter, staff's
assignment of an owner (who may, to whom, on which page, once) and the invitation that ends the orphan
state. The departure that sets the mark is in test_departures.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import grpc
import pytest

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.model import Member
from devinsider_common.pages.orphans import PageOwners, check_orphan_filter
from devinsider_common.pages.ports import ClaimsDirectory, DirectoryUser
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListLimits
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.memory import (
    MemoryMembers,
    MemoryPage,
    MemoryPageUow,
    MemoryStore,
    MemoryUsers,
    RecordedEvent,
)
from devinsider_common.testing.pages import check_orphan_mark
from devinsider_common.testing.tokens import principal
from devinsider_common.unit_of_work import UnitOfWorkFactory

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
STAFF = principal("kc-staff", ("admin",))
SERVICE = principal("svc-crm", ("service",))
BOB = DirectoryUser("users/u-bob", "kc-bob", "Bob Builder", "bob@acme.io")


class World:
    def __init__(self, *pages: MemoryPage, members: tuple[Member, ...] = (), users: MemoryUsers | None = None) -> None:
        self.store = MemoryStore()
        self.store.publish(
            {"pages": {p.id: p for p in pages}, "page_members": {(m.page_id, m.subject): m for m in members}}
        )
        self.clock = FakeClock(NOW)
        self.users = users or MemoryUsers(BOB)
        self.uow: UnitOfWorkFactory[MemoryPageUow] = partial(MemoryPageUow, self.store)
        self.owners = PageOwners(self.uow, self.clock, self.users)

    def page(self, page_id: str) -> MemoryPage:
        stored: MemoryPage = self.store.tables["pages"][page_id]
        return stored

    def roles(self, page_id: str) -> dict[str, PageRole]:
        rows: dict[tuple[str, str], Member] = self.store.tables["page_members"]
        return {m.subject: m.role for m in rows.values() if m.page_id == page_id}

    def events(self) -> list[RecordedEvent]:
        outbox: dict[int, RecordedEvent] = self.store.tables.get("outbox", {})
        return [outbox[n] for n in sorted(outbox)]

    def log(self) -> list[tuple[str, str]]:
        return [(e.kind, e.about) for e in self.events()]


def orphan(page_id: str = "p1") -> MemoryPage:
    return MemoryPage(page_id, "Acme", orphaned_at=T0, updated_at=T0)


def joined(page_id: str, subject: str, role: PageRole) -> Member:
    return Member(page_id, subject, role, f"users/u-{subject}", subject, f"{subject}@acme.io", T0, T0)


# The mark


def test_the_mark_is_set_once_cleared_once_and_never_on_a_deleted_page() -> None:
    world = World(MemoryPage("p1", "Acme", updated_at=T0), MemoryPage("gone", "Gone", is_deleted=True))

    def marked() -> None:
        assert (world.page("p1").orphaned_at, world.page("p1").updated_at) == (NOW, NOW)
        assert [(e.kind, e.about, e.details["changed"]) for e in world.events()] == [
            ("PageUpdated", "p1", ["orphan_time"])
        ]

    check_orphan_mark(world.uow, "p1", "gone", NOW, marked)
    assert (world.page("p1").orphaned_at, world.page("p1").updated_at) == (None, NOW + timedelta(days=1))
    assert world.log() == [("PageUpdated", "p1"), ("PageUpdated", "p1")]


# Staff's list filter


@pytest.mark.parametrize("caller", [STAFF, SERVICE], ids=["staff", "service"])
def test_staff_and_services_filter_on_orphaned_pages(caller: Principal) -> None:
    check_orphan_filter(caller, True)


@pytest.mark.parametrize(
    "caller", [None, principal("kc-isv"), principal("kc-guest", ("guest",))], ids=["anonymous", "isv", "guest"]
)
def test_anyone_else_is_refused_the_filter_but_not_the_list(caller: Principal | None) -> None:
    check_orphan_filter(caller, False)
    refused = failure(lambda: check_orphan_filter(caller, True))
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ORPHAN_FILTER_STAFF_ONLY")


# Staff assign an owner


def test_staff_give_an_orphaned_page_an_owner_from_the_user_directory() -> None:
    world = World(orphan())
    owner = world.owners.assign(STAFF, "p1", "users/u-bob")
    assert owner == Member("p1", "kc-bob", PageRole.OWNER, "users/u-bob", "Bob Builder", "bob@acme.io", NOW, NOW)
    assert world.roles("p1") == {"kc-bob": PageRole.OWNER}
    assert (world.page("p1").orphaned_at, world.page("p1").updated_at) == (None, NOW)
    assert world.log() == [("MemberAdded", "kc-bob"), ("PageUpdated", "p1")]
    assert world.users.asked == ["users/u-bob"]


def test_the_same_user_again_is_the_same_answer_and_writes_nothing() -> None:
    world = World(orphan())
    first = world.owners.assign(STAFF, "p1", "users/u-bob")
    world.clock.advance(minutes=5)
    commits, events = world.store.commits, world.log()
    assert world.owners.assign(SERVICE, "p1", "users/u-bob") == first
    assert (world.store.commits - commits, world.log()) == (1, events)  # an empty commit, no event


def test_a_member_left_on_an_orphaned_page_is_promoted() -> None:
    world = World(orphan(), members=(joined("p1", "kc-bob", PageRole.EDITOR),))  # joined after the orphaning
    owner = world.owners.assign(STAFF, "p1", "users/u-bob")
    assert (owner.role, owner.created_at, owner.updated_at, owner.display_name) == (PageRole.OWNER, T0, NOW, "kc-bob")
    (promoted, page) = world.events()
    assert (promoted.kind, promoted.details["previous_role"], page.kind) == (
        "MemberUpdated",
        PageRole.EDITOR,
        "PageUpdated",
    )
    assert world.page("p1").orphaned_at is None


def test_on_a_page_with_an_owner_the_user_is_one_more_owner() -> None:
    """A staff transfer: nobody is demoted (staff may then change roles as platform admins can)."""
    world = World(MemoryPage("p1", "Acme"), members=(joined("p1", "kc-alice", PageRole.OWNER),))
    world.owners.assign(STAFF, "p1", "users/u-bob")
    assert world.roles("p1") == {"kc-alice": PageRole.OWNER, "kc-bob": PageRole.OWNER}
    assert world.log() == [("MemberAdded", "kc-bob")]  # not orphaned: no page event


def unchanged(world: World, call: Callable[[], object]) -> Failure:
    """The refusal of `call`, which must leave the store as it was."""
    before = (world.store.commits, world.store.tables)
    refused = failure(call)
    assert (world.store.commits, world.store.tables) == before
    return refused


def test_a_page_that_never_had_an_owner_gets_one_by_a_claim_not_an_assignment() -> None:
    world = World(MemoryPage("p1", "Pre-listed Ltd"))
    refused = unchanged(world, lambda: world.owners.assign(STAFF, "p1", "users/u-bob"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PAGE_NEVER_OWNED")


def test_unknown_deleted_or_refused_users_are_named_in_the_error() -> None:
    blacklisted = DirectoryUser("users/u-eve", "kc-eve", "Eve", "eve@evil.io", refusal="BLACKLISTED_DOMAIN")
    world = World(orphan(), users=MemoryUsers(blacklisted))
    with pytest.raises(errors.NotFound) as unknown:
        world.owners.assign(STAFF, "p1", "users/u-bob")
    assert (unknown.value.reason, unknown.value.metadata) == ("USER_NOT_FOUND", {"user": "users/u-bob"})
    with pytest.raises(errors.FailedPrecondition) as refused:
        world.owners.assign(STAFF, "p1", "users/u-eve")
    assert refused.value.reason == "USER_NOT_ALLOWED"
    assert refused.value.metadata == {"user": "users/u-eve", "access_reason": "BLACKLISTED_DOMAIN"}
    assert "BLACKLISTED_DOMAIN" in refused.value.message
    assert world.page("p1").orphaned_at == T0 and world.events() == []


def test_a_missing_or_deleted_page_is_not_found() -> None:
    world = World(MemoryPage("gone", "Gone", orphaned_at=T0, is_deleted=True))
    for page in ("gone", "nope"):
        refused = unchanged(world, lambda page=page: world.owners.assign(STAFF, page, "users/u-bob"))  # type: ignore[misc]
        assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "PAGE_NOT_FOUND")


@pytest.mark.parametrize(
    "caller",
    [principal("kc-isv"), principal("kc-alice"), principal("kc-investor", ("investor",))],
    ids=["isv", "the page's admin", "investor"],
)
def test_only_staff_and_services_assign_and_before_anything_is_asked(caller: Principal) -> None:
    world = World(orphan(), members=(joined("p1", "kc-alice", PageRole.ADMIN),))
    refused = unchanged(world, lambda: world.owners.assign(caller, "p1", "users/u-bob"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "STAFF_ONLY")
    assert world.users.asked == []


def test_a_concurrent_assignment_of_the_same_user_answers_with_its_owner() -> None:
    """Both pass the membership check; the members' key stops the second, which answers with the
    first's owner (the memory store meets the key in this unit's table, as the database's index would)."""
    world = World(orphan())
    winner = joined("p1", "kc-bob", PageRole.OWNER)

    class Racing(MemoryPageUow):
        def _open_repositories(self) -> None:
            super()._open_repositories()
            unit = self

            class Late(MemoryMembers):
                def get(self, page_id: str, subject: str, lock: bool = False) -> Member | None:
                    found = super().get(page_id, subject, lock)
                    if not raced:
                        raced.append(True)
                        with MemoryPageUow(unit.store) as other:  # the concurrent call commits meanwhile
                            other.members.add(winner)
                            other.membership_events.member_added(winner, None)
                            other.orphans.clear(page_id, NOW)
                            other.commit()
                        unit.table("page_members")[(page_id, subject)] = winner
                    return found

            self.members = Late(self.table("page_members"))

    raced: list[bool] = []
    owner = PageOwners(partial(Racing, world.store), world.clock, world.users).assign(STAFF, "p1", "users/u-bob")
    assert owner == winner
    assert world.roles("p1") == {"kc-bob": PageRole.OWNER}
    assert world.log() == [("MemberAdded", "kc-bob"), ("PageUpdated", "p1")]  # the winner's only


# An invitation to the owner role ends the orphan state too


@pytest.mark.parametrize(("role", "orphaned"), [(PageRole.OWNER, None), (PageRole.EDITOR, T0)])
def test_accepting_an_invitation_to_the_owner_role_clears_the_mark(role: PageRole, orphaned: datetime | None) -> None:
    world = World(orphan())
    members = PageMembers(world.uow, world.clock, ListLimits(), ClaimsDirectory())
    invitations = PageInvitations(world.uow, world.clock, ListLimits(), members, timedelta(days=7))
    invitation = invitations.create(STAFF, "p1", "carol@acme.io", role, "")  # as the departed owner had
    (sent,) = [e for e in world.events() if e.kind == "InvitationSent"]
    carol = principal("kc-carol", email="carol@acme.io")
    invitations.accept(carol, "p1", invitation.id, str(sent.details["token"]))
    assert world.roles("p1") == {"kc-carol": role}
    assert world.page("p1").orphaned_at == orphaned

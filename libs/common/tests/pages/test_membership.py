"""The shared membership and invitation use cases on a minimal page service.

The rules run on the in-memory unit of work (no I/O); what only a database can show, a concurrent
twin caught by a unique index and the whole flow on the SQL repositories, runs on PostgreSQL and
SQLite (`each_database`). The stores themselves are proved alike in test_memory_repositories.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, Engine

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.db.engine import create_service_engine
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.pages.invitations import PageInvitations, invitation_rate
from devinsider_common.pages.membership import PageMembers, UowFactory
from devinsider_common.pages.model import Invitation, InvitationState, Member, hash_token
from devinsider_common.pages.orphans import PageOrphanMarks
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory, UserSummary
from devinsider_common.pages.repositories import InvitationRepository, MemberRepository
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.settings import PageServiceSettings
from devinsider_common.pages.tables import create_page_tables, define_page_tables
from devinsider_common.pagination import ListLimits
from devinsider_common.rate_limits import RateLimit
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import failure
from devinsider_common.testing.memory import (
    MemoryInvitations,
    MemoryMembers,
    MemoryPage,
    MemoryPages,
    MemoryStore,
    MemoryUnitOfWork,
    live_member_role,
)
from devinsider_common.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    kind: str  # the MembershipEvents method
    about: Any  # what the tests compare: a subject, an e-mail, a state...
    token: str = ""  # the mailed token of `invitation_sent`
    invitation_id: str = ""


class RecordingEvents:
    """`MembershipEvents` writing to the unit's outbox (committed with it, dropped without)."""

    def __init__(self, outbox: dict[int, Event]) -> None:
        self._outbox = outbox

    def _add(self, event: Event) -> None:
        self._outbox[len(self._outbox)] = event

    def member_added(self, member: Member, invitation: Invitation | None) -> None:
        self._add(Event("added", member.subject, invitation_id=invitation.id if invitation else ""))

    def member_updated(self, member: Member, previous_role: PageRole) -> None:
        self._add(Event("updated", (member.subject, previous_role, member.role)))

    def member_removed(self, member: Member, left: bool) -> None:
        self._add(Event("left" if left else "removed", member.subject))

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None:
        self._add(Event("sent", (invitation.email, page_title, inviter.subject), token, invitation.id))

    def invitation_changed(self, invitation: Invitation) -> None:
        self._add(Event("changed", invitation.state, invitation_id=invitation.id))

    def page_updated(self, page: MemoryPage, changed: list[str]) -> None:
        self._add(Event("page updated", (page.id, page.orphaned_at, tuple(changed))))


class MiniPageUow(MemoryUnitOfWork):
    """A page service's unit of work on the in-memory store (pages are MemoryPages)."""

    members: MemoryMembers
    invitations: MemoryInvitations
    membership_events: RecordingEvents
    orphans: PageOrphanMarks[MemoryPage]

    def _open_repositories(self) -> None:
        self.pages = MemoryPages(self.table("pages"))
        self.members = MemoryMembers(self.table("page_members"))
        self.invitations = MemoryInvitations(self.table("page_invitations"))
        self.membership_events = RecordingEvents(self.table("outbox"))
        self.orphans = PageOrphanMarks(self.pages.get, self.pages.save, self.membership_events.page_updated)

    def page_title(self, page_id: str) -> str | None:
        return self.pages.title(page_id)

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return live_member_role(self, page_id, subject)


@dataclass
class World:
    members: PageMembers
    invitations: PageInvitations
    clock: FakeClock
    events: Callable[[], list[Event]]  # the committed events, in order
    store: MemoryStore | None = None  # under the use cases, on the in-memory unit of work

    def log(self) -> list[tuple[str, Any]]:
        return [(e.kind, e.about) for e in self.events()]

    def invite(self, who: Principal, email: str, role: PageRole, page: str = "p1") -> tuple[Invitation, str]:
        invitation = self.invitations.create(who, page, email, role, "join us")
        (sent,) = [e for e in self.events() if e.kind == "sent" and e.invitation_id == invitation.id]
        return invitation, sent.token


class UserServiceLike:
    """A directory whose users all exist in the user service: `users/u-<subject>`."""

    def describe(self, principal: Principal) -> UserSummary:
        return replace(ClaimsDirectory().describe(principal), user=f"users/u-{principal.subject}")


def make_world(
    uow: UowFactory,
    events: Callable[[], list[Event]],
    directory: UserDirectory | None = None,
    rate: RateLimit | None = None,
) -> World:
    clock = FakeClock(NOW)
    members = PageMembers(uow, clock, ListLimits(default=50, maximum=100), directory or ClaimsDirectory())
    invitations = PageInvitations(uow, clock, ListLimits(), members, timedelta(days=7), rate)
    with uow() as unit:
        unit.members.add(members.new_member(ALICE, "p1", PageRole.OWNER))
        unit.commit()
    return World(members, invitations, clock, events)


def memory_world(directory: UserDirectory | None = None, rate: RateLimit | None = None) -> World:
    store = MemoryStore()
    store.publish({"pages": {"p1": MemoryPage("p1", "Acme"), "p2": MemoryPage("p2", "Globex")}})

    def events() -> list[Event]:
        outbox: dict[int, Event] = store.tables.get("outbox", {})
        return [outbox[n] for n in sorted(outbox)]

    world = make_world(partial(MiniPageUow, store), events, directory, rate)
    world.store = store
    return world


@pytest.fixture
def world() -> World:
    return memory_world()


ALICE = Principal("kc-alice", frozenset({"isv"}), email="alice@acme.io", given_name="Alice", email_verified=True)
BOB = Principal("kc-bob", frozenset({"isv"}), email="bob@acme.io", given_name="Bob", email_verified=True)
CAROL = Principal("kc-carol", frozenset({"isv"}), email="carol@acme.io", email_verified=True)
EVE = Principal("kc-eve", frozenset({"isv"}), email="eve@evil.io", email_verified=True)
STAFF = Principal("kc-staff", frozenset({"admin"}), email="staff@devinsider.io")


def reason(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    refused = failure(call)
    return refused.code, refused.reason


# Members and invitations, the rules


def test_invite_accept_and_manage_members(world: World) -> None:
    members, invitations = world.members, world.invitations
    invitation, token = world.invite(ALICE, "Bob@Acme.io", PageRole.ADMIN)
    assert invitation.email == "bob@acme.io" and invitation.token_hash == hash_token(token) != token
    assert invitation.expires_at == NOW + timedelta(days=7) and invitation.inviter == "kc-alice"
    assert world.log()[-1] == ("sent", ("bob@acme.io", "Acme", "kc-alice"))
    accepted = invitations.accept(BOB, "p1", invitation.id, token)
    assert accepted.state is InvitationState.ACCEPTED and accepted.member_id == "kc-bob"
    assert world.log()[-2:] == [("added", "kc-bob"), ("changed", InvitationState.ACCEPTED)]
    listed, _ = members.list(BOB, "p1", 0, "", None)
    assert {(m.subject, m.role) for m in listed} == {("kc-alice", PageRole.OWNER), ("kc-bob", PageRole.ADMIN)}
    assert members.check_access("p1", "kc-bob", PagePermission.MANAGE_BILLING) == (True, PageRole.ADMIN)
    assert members.check_access("p1", "kc-bob", PagePermission.DELETE) == (False, PageRole.ADMIN)
    assert members.check_access("p1", "kc-eve", PagePermission.VIEW_PRIVATE) == (False, None)
    assert members.check_access("nope", "kc-bob", PagePermission.VIEW_PRIVATE) == (False, None)
    # an admin never touches an owner, nor makes one; the last owner stays
    assert reason(lambda: members.change_role(BOB, "p1", "kc-alice", PageRole.VIEWER)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "MEMBER_OUTRANKS_CALLER",
    )
    assert reason(lambda: world.invite(BOB, "carol@acme.io", PageRole.OWNER)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "ROLE_ABOVE_OWN",
    )
    assert reason(lambda: members.leave(ALICE, "p1")) == (grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER")
    assert reason(lambda: members.change_role(ALICE, "p1", "kc-alice", PageRole.ADMIN)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LAST_OWNER",
    )
    world.clock.advance(minutes=5)
    promoted = members.change_role(ALICE, "p1", "kc-bob", PageRole.OWNER)
    assert (promoted.role, promoted.updated_at) == (PageRole.OWNER, NOW + timedelta(minutes=5))
    assert world.log()[-1] == ("updated", ("kc-bob", PageRole.ADMIN, PageRole.OWNER))
    members.leave(ALICE, "p1")
    assert world.log()[-1] == ("left", "kc-alice")
    assert members.check_access("p1", "kc-alice", PagePermission.VIEW_PRIVATE) == (False, None)


def test_a_role_unchanged_writes_nothing(world: World) -> None:
    invitation, token = world.invite(ALICE, "bob@acme.io", PageRole.EDITOR)
    world.invitations.accept(BOB, "p1", invitation.id, token)
    before = world.log()
    same = world.members.change_role(ALICE, "p1", "kc-bob", PageRole.EDITOR)
    assert same.role is PageRole.EDITOR and same.updated_at == NOW
    assert world.log() == before


def test_remove_and_leave(world: World) -> None:
    members = world.members
    for who, role in ((BOB, PageRole.ADMIN), (CAROL, PageRole.EDITOR)):
        invitation, token = world.invite(ALICE, who.email, role)
        world.invitations.accept(who, "p1", invitation.id, token)
    assert reason(lambda: members.remove(CAROL, "p1", "kc-bob")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PAGE_PERMISSION_DENIED",
    )
    assert reason(lambda: members.remove(BOB, "p1", "kc-nobody")) == (grpc.StatusCode.NOT_FOUND, "MEMBER_NOT_FOUND")
    assert reason(lambda: members.remove(BOB, "p1", "kc-alice")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "MEMBER_OUTRANKS_CALLER",
    )
    last_owner = (grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER")
    assert reason(lambda: members.remove(ALICE, "p1", "kc-alice")) == last_owner
    members.remove(BOB, "p1", "kc-carol")
    assert world.log()[-1] == ("removed", "kc-carol")
    assert reason(lambda: members.leave(CAROL, "p1")) == (grpc.StatusCode.NOT_FOUND, "NOT_A_MEMBER")
    members.leave(BOB, "p1")
    assert world.log()[-1] == ("left", "kc-bob")
    assert [m.subject for m in members.list(ALICE, "p1", 0, "", None)[0]] == ["kc-alice"]


def test_members_are_listed_in_windows_by_role(world: World) -> None:
    roles = {"a": PageRole.VIEWER, "b": PageRole.EDITOR, "c": PageRole.VIEWER, "d": PageRole.VIEWER}
    for name, role in roles.items():
        who = Principal(f"kc-{name}", frozenset({"isv"}), email=f"{name}@acme.io", email_verified=True)
        invitation, token = world.invite(ALICE, who.email, role)
        world.invitations.accept(who, "p1", invitation.id, token)
    first, token = world.members.list(ALICE, "p1", 2, "", None)
    assert [m.subject for m in first] == ["kc-a", "kc-alice"] and token
    second, token = world.members.list(ALICE, "p1", 2, token, None)
    assert [m.subject for m in second] == ["kc-b", "kc-c"] and token
    last, token = world.members.list(ALICE, "p1", 2, token, None)
    assert [m.subject for m in last] == ["kc-d"] and token == ""
    viewers, token = world.members.list(ALICE, "p1", 0, "", PageRole.VIEWER)
    assert [m.subject for m in viewers] == ["kc-a", "kc-c", "kc-d"] and token == ""
    _, token = world.members.list(ALICE, "p1", 1, "", PageRole.VIEWER)
    refused = failure(lambda: world.members.list(ALICE, "p1", 1, token, None))  # another filter
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])
    refused = failure(lambda: world.members.list(ALICE, "p1", -1, "", None))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_size"])
    assert len(world.members.list(ALICE, "p1", 1000, "", None)[0]) == 5  # capped, not refused


def test_strangers_get_permission_denied_even_for_missing_pages(world: World) -> None:
    denied = (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    for page in ("p1", "does-not-exist"):
        assert reason(lambda: world.members.list(EVE, page, 0, "", None)) == denied  # noqa: B023
        assert reason(lambda: world.invitations.create(EVE, page, "x@evil.io", PageRole.VIEWER, "")) == denied  # noqa: B023
        assert reason(lambda: world.invitations.list(EVE, page, 0, "", None)) == denied  # noqa: B023
        assert reason(lambda: world.members.change_role(EVE, page, "kc-alice", PageRole.VIEWER)) == denied  # noqa: B023
        assert reason(lambda: world.members.remove(EVE, page, "kc-alice")) == denied  # noqa: B023
    # staff pass the permission check, then existence applies
    missing = (grpc.StatusCode.NOT_FOUND, "PAGE_NOT_FOUND")
    assert reason(lambda: world.members.list(STAFF, "does-not-exist", 0, "", None)) == missing
    assert reason(lambda: world.invitations.list(STAFF, "does-not-exist", 0, "", None)) == missing
    assert reason(lambda: world.members.remove(STAFF, "does-not-exist", "kc-alice")) == missing
    assert reason(lambda: world.invitations.create(STAFF, "does-not-exist", "x@a.io", PageRole.VIEWER, "")) == missing
    # and staff act as owners on a page they are not a member of
    assert [m.subject for m in world.members.list(STAFF, "p1", 0, "", None)[0]] == ["kc-alice"]
    invitation, _ = world.invite(STAFF, "dan@acme.io", PageRole.OWNER)
    assert invitation.role is PageRole.OWNER


def test_one_pending_invitation_per_email_and_no_invitation_for_members(world: World) -> None:
    first, _ = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    pending = (grpc.StatusCode.ALREADY_EXISTS, "INVITATION_PENDING")
    assert reason(lambda: world.invite(ALICE, " BOB@acme.io ", PageRole.EDITOR)) == pending
    assert reason(lambda: world.invite(ALICE, "alice@acme.io", PageRole.EDITOR)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_MEMBER",
    )
    world.invitations.revoke(ALICE, "p1", first.id)
    again, _ = world.invite(ALICE, "bob@acme.io", PageRole.EDITOR)  # once closed, invited again
    assert again.id != first.id and again.state is InvitationState.PENDING
    assert [e.about for e in world.events() if e.kind == "sent"] == [("bob@acme.io", "Acme", "kc-alice")] * 2


@pytest.mark.parametrize(
    ("email", "message", "fields"),
    [
        ("not-an-email", "", ["invitation.email"]),
        ("", "", ["invitation.email"]),
        ("bob@acme.io", "x" * 1001, ["invitation.message"]),
        ("nope", "x" * 1001, ["invitation.email", "invitation.message"]),
    ],
)
def test_a_bad_invitation_names_its_fields_and_sends_nothing(
    world: World, email: str, message: str, fields: list[str]
) -> None:
    refused = failure(lambda: world.invitations.create(ALICE, "p1", email, PageRole.VIEWER, message))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, fields)
    assert [e for e in world.events() if e.kind == "sent"] == []


def test_accept_checks_token_email_and_page(world: World) -> None:
    invitations = world.invitations
    invitation, token = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    assert reason(lambda: invitations.accept(EVE, "p1", invitation.id, token)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "INVITATION_EMAIL_MISMATCH",
    )
    assert reason(lambda: invitations.accept(BOB, "p1", invitation.id, "forged")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "INVITATION_TOKEN_INVALID",
    )
    assert reason(lambda: invitations.accept(BOB, "p2", invitation.id, token)) == (
        grpc.StatusCode.NOT_FOUND,
        "INVITATION_NOT_FOUND",
    )
    assert reason(lambda: invitations.accept(BOB, "p1", "no-such-id", token)) == (
        grpc.StatusCode.NOT_FOUND,
        "INVITATION_NOT_FOUND",
    )
    assert [e for e in world.events() if e.kind in ("added", "changed")] == []  # refusals write nothing
    invitations.accept(BOB, "p1", invitation.id, token)
    assert reason(lambda: invitations.accept(BOB, "p1", invitation.id, token)) == (  # tokens are one-time
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVITATION_NOT_PENDING",
    )


def test_a_member_cannot_join_again_through_another_invitation(world: World) -> None:
    """Bob joined under his old address; invited again under his new one, he cannot join twice."""
    old = replace(BOB, email="bob@old.io")
    first, first_token = world.invite(ALICE, old.email, PageRole.VIEWER)
    world.invitations.accept(old, "p1", first.id, first_token)
    second, second_token = world.invite(ALICE, "bob@acme.io", PageRole.ADMIN)  # no member has this address
    assert reason(lambda: world.invitations.accept(BOB, "p1", second.id, second_token)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_MEMBER",
    )
    listed, _ = world.members.list(ALICE, "p1", 0, "", None)
    assert {(m.subject, m.role) for m in listed} == {("kc-alice", PageRole.OWNER), ("kc-bob", PageRole.VIEWER)}
    mine, _ = world.invitations.list(BOB, None, 0, "", None)
    assert [(i.id, i.state) for i in mine] == [(second.id, InvitationState.PENDING)]


def test_accepting_an_expired_invitation_or_on_a_deleted_page_fails(world: World) -> None:
    invitation, token = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    world.clock.advance(days=7)
    assert reason(lambda: world.invitations.accept(BOB, "p1", invitation.id, token)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVITATION_EXPIRED",
    )
    world.clock.advance(days=-1)
    store = world.store
    assert store is not None
    store.publish({**store.tables, "pages": {}})  # the page went away
    assert reason(lambda: world.invitations.accept(BOB, "p1", invitation.id, token)) == (
        grpc.StatusCode.NOT_FOUND,
        "PAGE_NOT_FOUND",
    )


def test_decline_revoke_and_expiry(world: World) -> None:
    invitations = world.invitations
    declined, token = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    assert reason(lambda: invitations.decline(None, "p1", declined.id, "")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "INVITATION_TOKEN_INVALID",
    )
    assert reason(lambda: invitations.decline(EVE, "p1", declined.id, "")) == (  # not the invitee
        grpc.StatusCode.PERMISSION_DENIED,
        "INVITATION_TOKEN_INVALID",
    )
    assert invitations.decline(None, "p1", declined.id, token).state is InvitationState.DECLINED
    revoked, _ = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    assert reason(lambda: invitations.revoke(BOB, "p1", revoked.id)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PAGE_PERMISSION_DENIED",
    )
    assert invitations.revoke(ALICE, "p1", revoked.id).state is InvitationState.REVOKED
    assert reason(lambda: invitations.revoke(ALICE, "p1", revoked.id)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVITATION_NOT_PENDING",
    )
    by_invitee, _ = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    assert invitations.decline(BOB, "p1", by_invitee.id, "").state is InvitationState.DECLINED  # signed in
    expiring, _ = world.invite(ALICE, "carol@acme.io", PageRole.VIEWER)
    assert invitations.expire_due() == 0
    world.clock.advance(days=8)
    assert invitations.expire_due() == 1
    assert invitations.expire_due() == 0
    mine, _ = invitations.list(Principal("kc-carol", email="carol@acme.io"), None, 0, "", None)
    assert [(i.id, i.state, i.closed_at) for i in mine] == [(expiring.id, InvitationState.EXPIRED, world.clock())]
    changed = [e.about for e in world.events() if e.kind == "changed"]
    S = InvitationState  # noqa: N806
    assert changed == [S.DECLINED, S.REVOKED, S.DECLINED, S.EXPIRED]


def test_invitations_are_listed_for_the_page_and_for_the_invitee(world: World) -> None:
    bob, _ = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    carol, _ = world.invite(ALICE, "carol@acme.io", PageRole.EDITOR)
    world.invitations.revoke(ALICE, "p1", carol.id)
    newest_first = sorted([bob.id, carol.id], reverse=True)  # UUIDv7: by time (within a millisecond, random)
    listed, token = world.invitations.list(ALICE, "p1", 0, "", None)
    assert [i.id for i in listed] == newest_first and token == ""
    pending, _ = world.invitations.list(ALICE, "p1", 0, "", InvitationState.PENDING)
    assert [i.id for i in pending] == [bob.id]
    first, token = world.invitations.list(ALICE, "p1", 1, "", None)
    rest, last = world.invitations.list(ALICE, "p1", 1, token, None)
    assert [i.id for i in first + rest] == newest_first and last == ""
    mine, _ = world.invitations.list(replace(BOB, email="BOB@acme.io"), None, 0, "", None)
    assert [i.id for i in mine] == [bob.id]
    assert world.invitations.list(replace(BOB, email=""), None, 0, "", None) == ([], "")  # no e-mail: none
    assert reason(lambda: world.invitations.list(BOB, "p1", 0, "", None)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PAGE_PERMISSION_DENIED",
    )


def test_an_unverified_email_cannot_accept(world: World) -> None:
    invitation, token = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    assert reason(lambda: world.invitations.accept(replace(BOB, email_verified=False), "p1", invitation.id, token)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "EMAIL_NOT_VERIFIED",
    )
    assert world.invitations.accept(BOB, "p1", invitation.id, token).state is InvitationState.ACCEPTED


def test_a_page_sends_a_limited_number_of_invitations_per_window() -> None:
    world = memory_world(rate=RateLimit(2, timedelta(hours=1)))
    first, _ = world.invite(ALICE, "bob@acme.io", PageRole.VIEWER)
    world.invitations.revoke(ALICE, "p1", first.id)  # revoked invitations were mailed all the same: they count
    world.clock.advance(minutes=10)
    world.invite(ALICE, "carol@acme.io", PageRole.VIEWER)
    with pytest.raises(errors.ResourceExhausted) as raised:
        world.invite(ALICE, "dan@acme.io", PageRole.VIEWER)
    assert raised.value.reason == "INVITATIONS_RATE_LIMITED"
    assert raised.value.retry_after_seconds == 50 * 60  # when the first one leaves the window
    world.invite(STAFF, "dan@acme.io", PageRole.VIEWER, page="p2")  # counted per page
    world.clock.advance(minutes=50)
    world.invite(ALICE, "dan@acme.io", PageRole.VIEWER)


def test_the_rate_comes_from_the_page_service_settings() -> None:
    settings = PageServiceSettings(invitation_rate_limit=3, invitation_rate_window_seconds=90)
    assert invitation_rate(settings) == RateLimit(3, timedelta(seconds=90))


def test_records_name_users_and_members_by_their_user_id() -> None:
    world = memory_world(directory=UserServiceLike())
    members, invitations = world.members, world.invitations
    invitation, token = world.invite(ALICE, "bob@acme.io", PageRole.EDITOR)
    assert invitation.inviter == "users/u-kc-alice"
    accepted = invitations.accept(BOB, "p1", invitation.id, token)
    assert accepted.member_id == "u-kc-bob"
    listed, _ = members.list(ALICE, "p1", 0, "", None)
    assert {(m.id, m.user) for m in listed} == {("u-kc-alice", "users/u-kc-alice"), ("u-kc-bob", "users/u-kc-bob")}
    assert members.change_role(ALICE, "p1", "u-kc-bob", PageRole.VIEWER).role is PageRole.VIEWER
    assert reason(lambda: members.remove(ALICE, "p1", "kc-bob")) == (  # a member with a user is named by it
        grpc.StatusCode.NOT_FOUND,
        "MEMBER_NOT_FOUND",
    )
    members.remove(ALICE, "p1", "u-kc-bob")
    assert members.reference(Principal("svc-billing", frozenset({"service"}))) == "svc-billing"


# On the databases: the unique indexes behind the races, and the flow on the SQL repositories

metadata = sa.MetaData()
TABLES = define_page_tables(metadata)
pages = sa.Table(
    "pages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("orphaned_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)


class SqlMiniPages:
    """The minimal page store on the `pages` table."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, page_id: str, lock: bool = False) -> MemoryPage | None:
        row = self._connection.execute(sa.select(pages).where(pages.c.id == page_id)).mappings().first()
        return MemoryPage(**row) if row else None

    def save(self, page: MemoryPage) -> None:
        values = {"orphaned_at": page.orphaned_at, "updated_at": page.updated_at}
        self._connection.execute(sa.update(pages).where(pages.c.id == page.id).values(**values))


class SqlMiniPageUow(SqlUnitOfWork):
    """The same page service on the SQL repositories; `racers` run once, right after the read of
    the use case they are named after (a concurrent caller commits a twin after the check)."""

    members: MemberRepository
    invitations: InvitationRepository
    membership_events: RecordingEvents
    orphans: PageOrphanMarks[MemoryPage]

    def __init__(
        self,
        engine: Engine,
        outbox: dict[int, Event],
        racers: dict[str, Callable[[], object]],
        read_only: bool = False,
    ) -> None:
        super().__init__(engine, read_only)
        self.outbox = outbox
        self.racers = racers

    def _open_repositories(self, connection: Connection) -> None:
        racers = self.racers

        class Members(MemberRepository):
            def get(self, page_id: str, subject: str, lock: bool = False) -> Member | None:
                found = super().get(page_id, subject, lock)
                racers.pop("members.get", lambda: None)()
                return found

        class Invitations(InvitationRepository):
            def pending_for(self, page_id: str, email: str) -> Invitation | None:
                found = super().pending_for(page_id, email)
                racers.pop("invitations.pending_for", lambda: None)()
                return found

        self.members = Members(connection, TABLES)
        self.invitations = Invitations(connection, TABLES)
        self.membership_events = RecordingEvents(self.outbox)
        self.pages = SqlMiniPages(connection)
        self.orphans = PageOrphanMarks(self.pages.get, self.pages.save, self.membership_events.page_updated)

    def page_title(self, page_id: str) -> str | None:
        return self.connection.execute(self._title_query(page_id)).scalar()

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return self.members.role_on(page_id, subject, self._title_query(page_id))

    @staticmethod
    def _title_query(page_id: str) -> sa.Select[tuple[str]]:
        return sa.select(pages.c.title).where(pages.c.id == page_id)


@dataclass
class SqlWorld:
    world: World
    uow: UnitOfWorkFactory[SqlMiniPageUow]
    racers: dict[str, Callable[[], object]]
    engine: Engine

    def rows(self, table: sa.Table) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [dict(r) for r in connection.execute(sa.select(table)).mappings()]


@pytest.fixture
def sql_world(each_database: tuple[str, str]) -> Iterator[SqlWorld]:
    engine = create_service_engine(*each_database)
    with engine.begin() as connection:
        create_page_tables(Operations(MigrationContext.configure(connection)))  # as a revision would
        pages.create(connection)
        connection.execute(sa.insert(pages).values([{"id": "p1", "title": "Acme"}, {"id": "p2", "title": "Globex"}]))
    outbox: dict[int, Event] = {}  # not transactional here: the events of units that committed are asserted
    racers: dict[str, Callable[[], object]] = {}

    uow = partial(SqlMiniPageUow, engine, outbox, racers)

    world = make_world(uow, lambda: [outbox[n] for n in sorted(outbox)])
    yield SqlWorld(world, uow, racers, engine)
    engine.dispose()


def test_the_flow_on_the_sql_repositories(sql_world: SqlWorld) -> None:
    world = sql_world.world
    invitation, token = world.invite(ALICE, "Bob@Acme.io", PageRole.ADMIN)
    world.invitations.accept(BOB, "p1", invitation.id, token)
    assert world.members.change_role(ALICE, "p1", "kc-bob", PageRole.OWNER).role is PageRole.OWNER
    world.members.leave(ALICE, "p1")
    carol, _ = world.invite(BOB, "carol@acme.io", PageRole.VIEWER)
    world.clock.advance(days=8)
    assert world.invitations.expire_due() == 1
    assert [(m["subject"], m["role"]) for m in sql_world.rows(TABLES.members)] == [("kc-bob", int(PageRole.OWNER))]
    invitations = sql_world.rows(TABLES.invitations)
    states = {i["email"]: (InvitationState(i["state"]), i["member_subject"]) for i in invitations}
    assert states == {"bob@acme.io": (InvitationState.ACCEPTED, "kc-bob"), carol.email: (InvitationState.EXPIRED, "")}
    assert [kind for kind, _ in world.log()] == ["sent", "added", "changed", "updated", "left", "sent", "changed"]


def test_a_concurrent_twin_invitation_is_already_exists(sql_world: SqlWorld) -> None:
    """Two managers invite the same address at once: both pass the check, the unique index of
    pending invitations stops the second, which stores and sends nothing."""
    world = sql_world.world
    twin: list[Invitation] = []
    sql_world.racers["invitations.pending_for"] = lambda: twin.append(
        world.invitations.create(ALICE, "p1", "dan@acme.io", PageRole.VIEWER, "")
    )
    assert reason(lambda: world.invite(ALICE, "dan@acme.io", PageRole.EDITOR)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "INVITATION_PENDING",
    )
    assert [(i["id"], i["role"]) for i in sql_world.rows(TABLES.invitations)] == [(twin[0].id, int(PageRole.VIEWER))]
    assert [e.about for e in world.events() if e.kind == "sent"] == [("dan@acme.io", "Acme", "kc-alice")]


def test_joining_at_once_another_way_is_already_member(sql_world: SqlWorld) -> None:
    """Bob becomes a member while his acceptance runs: both pass the membership check, the members'
    primary key stops the acceptance, and its invitation stays pending."""
    world = sql_world.world
    invitation, token = world.invite(ALICE, "bob@acme.io", PageRole.ADMIN)

    def join_meanwhile() -> None:
        with sql_world.uow() as unit:
            unit.members.add(world.members.new_member(BOB, "p1", PageRole.VIEWER))
            unit.commit()

    sql_world.racers["members.get"] = join_meanwhile
    assert reason(lambda: world.invitations.accept(BOB, "p1", invitation.id, token)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_MEMBER",
    )
    assert sorted((m["subject"], m["role"]) for m in sql_world.rows(TABLES.members)) == [
        ("kc-alice", int(PageRole.OWNER)),
        ("kc-bob", int(PageRole.VIEWER)),
    ]
    assert [InvitationState(i["state"]) for i in sql_world.rows(TABLES.invitations)] == [InvitationState.PENDING]
    assert [kind for kind, _ in world.log()] == ["sent"]

"""The shared membership and invitation use cases on a minimal page service, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, Engine

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.db.engine import create_service_engine
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.model import Invitation, InvitationState, Member
from devinsider_common.pages.ports import ClaimsDirectory, MembershipEvents, UserDirectory, UserSummary
from devinsider_common.pages.repositories import InvitationRepository, MemberRepository
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.tables import create_page_tables, define_page_tables
from devinsider_common.pagination import ListLimits
from devinsider_common.rate_limits import RateLimit

metadata = sa.MetaData()
TABLES = define_page_tables(metadata)
pages = sa.Table("pages", metadata, sa.Column("id", sa.String(36), primary_key=True), sa.Column("title", sa.Text))


class RecordingEvents:
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.tokens: dict[str, str] = {}

    def member_added(self, member: Member, invitation: Invitation | None) -> None:
        self.log.append(("added", member.subject))

    def member_updated(self, member: Member, previous_role: PageRole) -> None:
        self.log.append(("updated", (member.subject, previous_role, member.role)))

    def member_removed(self, member: Member, left: bool) -> None:
        self.log.append(("left" if left else "removed", member.subject))

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None:
        self.tokens[invitation.id] = token
        self.log.append(("sent", invitation.email))

    def invitation_changed(self, invitation: Invitation) -> None:
        self.log.append(("changed", invitation.state))


class MiniPageUow(SqlUnitOfWork):
    events = RecordingEvents()
    members: MemberRepository
    invitations: InvitationRepository
    membership_events: MembershipEvents

    def _open_repositories(self, connection: Connection) -> None:
        self.members = MemberRepository(connection, TABLES)
        self.invitations = InvitationRepository(connection, TABLES)
        self.membership_events = self.events

    def page_title(self, page_id: str) -> str | None:
        return self.connection.execute(sa.select(pages.c.title).where(pages.c.id == page_id)).scalar()


@pytest.fixture(params=["postgres", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_service_engine(f"sqlite+pysqlite:///{tmp_path / 'pages.db'}", "pages")
    else:
        engine = request.getfixturevalue("pg_engine")
    with engine.begin() as connection:
        create_page_tables(Operations(MigrationContext.configure(connection)))
        pages.create(connection)
        connection.execute(sa.insert(pages).values(id="p1", title="Acme"))
    yield engine
    engine.dispose()


class Clock:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


World = tuple[PageMembers, PageInvitations, RecordingEvents, Clock]


class UserServiceLike:
    """A directory whose users all exist in the user service: `users/u-<subject>`."""

    def describe(self, principal: Principal) -> UserSummary:
        return replace(ClaimsDirectory().describe(principal), user=f"users/u-{principal.subject}")


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


def make_world(engine: Engine, directory: UserDirectory | None = None, rate: RateLimit | None = None) -> World:
    events = RecordingEvents()
    clock = Clock()

    def uow() -> MiniPageUow:
        unit = MiniPageUow(engine)
        unit.events = events
        return unit

    members = PageMembers(uow, clock, ListLimits(), directory or ClaimsDirectory())
    invitations = PageInvitations(uow, clock, ListLimits(), members, timedelta(days=7), rate)
    owner = members.new_member(ALICE, "p1", PageRole.OWNER)
    with uow() as unit:
        unit.members.add(owner)
        unit.commit()
    return members, invitations, events, clock


ALICE = Principal("kc-alice", frozenset({"isv"}), email="alice@acme.io", given_name="Alice", email_verified=True)
BOB = Principal("kc-bob", frozenset({"isv"}), email="bob@acme.io", given_name="Bob", email_verified=True)
EVE = Principal("kc-eve", frozenset({"isv"}), email="eve@evil.io", email_verified=True)
STAFF = Principal("kc-staff", frozenset({"admin"}), email="staff@devinsider.io")


def _invite(world: Any, who: Principal, email: str, role: PageRole) -> tuple[Invitation, str]:
    _, invitations, events, _ = world
    invitation = invitations.create(who, "p1", email, role, "join us")
    return invitation, events.tokens[invitation.id]


def test_invite_accept_and_manage_members(world: Any) -> None:
    members, invitations, events, _ = world
    invitation, token = _invite(world, ALICE, "Bob@Acme.io", PageRole.ADMIN)
    assert invitation.email == "bob@acme.io" and invitation.token_hash != token
    accepted = invitations.accept(BOB, "p1", invitation.id, token)
    assert accepted.state is InvitationState.ACCEPTED
    listed, _ = members.list(BOB, "p1", 0, "", None)
    assert {(m.subject, m.role) for m in listed} == {("kc-alice", PageRole.OWNER), ("kc-bob", PageRole.ADMIN)}
    assert members.check_access("p1", "kc-bob", PagePermission.MANAGE_BILLING) == (True, PageRole.ADMIN)
    assert members.check_access("p1", "kc-bob", PagePermission.DELETE) == (False, PageRole.ADMIN)
    assert members.check_access("p1", "kc-eve", PagePermission.VIEW_PRIVATE) == (False, None)
    with pytest.raises(errors.PermissionDenied):  # an admin never touches an owner
        members.change_role(BOB, "p1", "kc-alice", PageRole.VIEWER)
    with pytest.raises(errors.PermissionDenied):  # nor makes one
        _invite(world, BOB, "carol@acme.io", PageRole.OWNER)
    with pytest.raises(errors.FailedPrecondition):  # the last owner stays
        members.leave(ALICE, "p1")
    members.change_role(ALICE, "p1", "kc-bob", PageRole.OWNER)
    members.leave(ALICE, "p1")
    assert ("left", "kc-alice") in events.log


def test_strangers_get_permission_denied_even_for_missing_pages(world: Any) -> None:
    members, invitations, _, _ = world
    for page in ("p1", "does-not-exist"):
        with pytest.raises(errors.PermissionDenied):
            members.list(EVE, page, 0, "", None)
        with pytest.raises(errors.PermissionDenied):
            invitations.create(EVE, page, "x@evil.io", PageRole.VIEWER, "")
    with pytest.raises(errors.NotFound):  # staff pass the permission check, then existence applies
        members.list(STAFF, "does-not-exist", 0, "", None)


def test_one_pending_invitation_per_email_and_no_invitation_for_members(world: Any) -> None:
    _, invitations, _, _ = world
    _invite(world, ALICE, "bob@acme.io", PageRole.VIEWER)
    with pytest.raises(errors.AlreadyExists):
        _invite(world, ALICE, "BOB@acme.io", PageRole.EDITOR)
    with pytest.raises(errors.AlreadyExists):
        _invite(world, ALICE, "alice@acme.io", PageRole.EDITOR)
    with pytest.raises(errors.InvalidArgument):
        invitations.create(ALICE, "p1", "not-an-email", PageRole.VIEWER, "")


def test_accept_checks_token_email_and_page(world: Any) -> None:
    _, invitations, _, _ = world
    invitation, token = _invite(world, ALICE, "bob@acme.io", PageRole.VIEWER)
    with pytest.raises(errors.PermissionDenied):
        invitations.accept(EVE, "p1", invitation.id, token)
    with pytest.raises(errors.PermissionDenied):
        invitations.accept(BOB, "p1", invitation.id, "forged")
    with pytest.raises(errors.NotFound):
        invitations.accept(BOB, "other-page", invitation.id, token)
    invitations.accept(BOB, "p1", invitation.id, token)
    with pytest.raises(errors.FailedPrecondition):  # tokens are one-time
        invitations.accept(BOB, "p1", invitation.id, token)


def test_decline_revoke_and_expiry(world: Any) -> None:
    _, invitations, events, clock = world
    declined, token = _invite(world, ALICE, "bob@acme.io", PageRole.VIEWER)
    with pytest.raises(errors.PermissionDenied):
        invitations.decline(None, "p1", declined.id, "")
    assert invitations.decline(None, "p1", declined.id, token).state is InvitationState.DECLINED
    revoked, _ = _invite(world, ALICE, "bob@acme.io", PageRole.VIEWER)
    with pytest.raises(errors.PermissionDenied):
        invitations.revoke(BOB, "p1", revoked.id)
    assert invitations.revoke(ALICE, "p1", revoked.id).state is InvitationState.REVOKED
    expiring, token = _invite(world, ALICE, "carol@acme.io", PageRole.VIEWER)
    assert invitations.expire_due() == 0
    clock.now += timedelta(days=8)
    assert invitations.expire_due() == 1
    mine, _ = invitations.list(Principal("kc-carol", email="carol@acme.io"), None, 0, "", None)
    assert [(i.id, i.state) for i in mine] == [(expiring.id, InvitationState.EXPIRED)]
    assert events.log.count(("changed", InvitationState.EXPIRED)) == 1


def test_an_unverified_email_cannot_accept(world: World) -> None:
    _, invitations, _, _ = world
    invitation, token = _invite(world, ALICE, "bob@acme.io", PageRole.VIEWER)
    with pytest.raises(errors.FailedPrecondition) as raised:
        invitations.accept(replace(BOB, email_verified=False), "p1", invitation.id, token)
    assert raised.value.reason == "EMAIL_NOT_VERIFIED"
    assert invitations.accept(BOB, "p1", invitation.id, token).state is InvitationState.ACCEPTED


def test_a_page_sends_a_limited_number_of_invitations_per_window(engine: Engine) -> None:
    world = make_world(engine, rate=RateLimit(2, timedelta(hours=1)))
    _, invitations, _, clock = world
    first, _ = _invite(world, ALICE, "bob@acme.io", PageRole.VIEWER)
    invitations.revoke(ALICE, "p1", first.id)  # revoked invitations were mailed all the same: they count
    clock.now += timedelta(minutes=10)
    _invite(world, ALICE, "carol@acme.io", PageRole.VIEWER)
    with pytest.raises(errors.ResourceExhausted) as raised:
        _invite(world, ALICE, "dan@acme.io", PageRole.VIEWER)
    assert raised.value.reason == "INVITATIONS_RATE_LIMITED"
    assert raised.value.retry_after_seconds == 50 * 60  # when the first one leaves the window
    clock.now += timedelta(minutes=50)
    _invite(world, ALICE, "dan@acme.io", PageRole.VIEWER)


def test_records_name_users_and_members_by_their_user_id(engine: Engine) -> None:
    world = make_world(engine, directory=UserServiceLike())
    members, invitations, _, _ = world
    invitation, token = _invite(world, ALICE, "bob@acme.io", PageRole.EDITOR)
    assert invitation.inviter == "users/u-kc-alice"
    accepted = invitations.accept(BOB, "p1", invitation.id, token)
    assert accepted.member_id == "u-kc-bob"
    listed, _ = members.list(ALICE, "p1", 0, "", None)
    assert {(m.id, m.user) for m in listed} == {("u-kc-alice", "users/u-kc-alice"), ("u-kc-bob", "users/u-kc-bob")}
    assert members.change_role(ALICE, "p1", "u-kc-bob", PageRole.VIEWER).role is PageRole.VIEWER
    with pytest.raises(errors.NotFound):  # a member with a user is named by it, not by its subject
        members.remove(ALICE, "p1", "kc-bob")
    members.remove(ALICE, "p1", "u-kc-bob")

"""A deleted account leaves every page (the page services' UserDeleted handler), on the in-memory unit of
work: member rows and the personal data in them go, a sole owner's page goes to its next member, each
delivery is applied once, and an event the handler cannot use is dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devinsider.user.v1.events_pb2 import UserCreated, UserDeleted
from devinsider_common.consumer import Delivery, PermanentFailure
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.pages.departures import AccountDeletions
from devinsider_common.pages.model import Invitation, InvitationState, Member
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.memory import (
    MemoryInbox,
    MemoryInvitations,
    MemoryMembers,
    MemoryStore,
    MemoryUnitOfWork,
    RecordedEvent,
    RecordingPageEvents,
)

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


class PagesUow(MemoryUnitOfWork):
    members: MemoryMembers
    invitations: MemoryInvitations
    membership_events: RecordingPageEvents
    inbox: MemoryInbox

    def _open_repositories(self) -> None:
        self.members = MemoryMembers(self.table("page_members"))
        self.invitations = MemoryInvitations(self.table("page_invitations"))
        self.membership_events = RecordingPageEvents(self.table("outbox"))
        self.inbox = MemoryInbox(self.table("inbox"))

    def page_title(self, page_id: str) -> str | None:
        return page_id


def member(page: str, subject: str, role: PageRole, joined_minutes: int = 0) -> Member:
    at = T0 + timedelta(minutes=joined_minutes)
    return Member(page, subject, role, display_name=subject.title(), email=f"{subject}@x.io", created_at=at)


def world(*rows: Member, invitations: tuple[Invitation, ...] = ()) -> tuple[AccountDeletions, MemoryStore]:
    store = MemoryStore()
    members = {(m.page_id, m.subject): m for m in rows}
    store.publish({"page_members": members, "page_invitations": {i.id: i for i in invitations}})
    return AccountDeletions("company", lambda: PagesUow(store), FakeClock(T0 + timedelta(days=1))), store


def deleted(subject: str, message_id: str = "m1", email: str = "") -> Delivery:
    event = UserDeleted(name="users/1", subject=subject, email=email)
    envelope = build_envelope(event, source="user", external_id="users/1")
    return Delivery("company.user-deletions", message_id, envelope, 1)


def members(store: MemoryStore) -> dict[tuple[str, str], PageRole]:
    return {key: m.role for key, m in store.tables["page_members"].items()}


def events(store: MemoryStore) -> list[RecordedEvent]:
    return list(store.tables.get("outbox", {}).values())


def test_the_queue_listens_to_account_deletions() -> None:
    handle, _ = world()
    (binding,) = handle.queue.bindings
    assert (handle.queue.name, binding.exchange, binding.routing_key) == (
        "company.user-deletions",
        "user_updates_exchange",
        "user.deleted",
    )


def test_the_user_leaves_every_page_with_the_personal_data_of_the_rows() -> None:
    handle, store = world(
        member("p1", "gone", PageRole.EDITOR),
        member("p2", "gone", PageRole.VIEWER),
        member("p1", "alice", PageRole.OWNER),
        member("p2", "bob", PageRole.OWNER),
    )
    assert handle(deleted("gone")) is True
    assert members(store) == {("p1", "alice"): PageRole.OWNER, ("p2", "bob"): PageRole.OWNER}
    assert all("gone" not in str(row) for row in store.tables["page_members"].values())
    assert sorted((e.kind, e.about) for e in events(store)) == [("MemberRemoved", "gone")] * 2


def test_a_sole_owners_page_goes_to_the_longest_standing_admin() -> None:
    handle, store = world(
        member("p1", "gone", PageRole.OWNER),
        member("p1", "editor", PageRole.EDITOR, joined_minutes=1),
        member("p1", "late-admin", PageRole.ADMIN, joined_minutes=9),
        member("p1", "early-admin", PageRole.ADMIN, joined_minutes=5),
    )
    handle(deleted("gone"))
    assert members(store) == {
        ("p1", "early-admin"): PageRole.OWNER,
        ("p1", "late-admin"): PageRole.ADMIN,
        ("p1", "editor"): PageRole.EDITOR,
    }
    promoted = [e for e in events(store) if e.kind == "MemberUpdated"]
    assert [(e.about, e.details["previous_role"]) for e in promoted] == [("early-admin", PageRole.ADMIN)]


def test_without_an_admin_the_next_editor_or_viewer_succeeds_and_co_owners_keep_theirs() -> None:
    handle, store = world(
        member("p1", "gone", PageRole.OWNER),
        member("p1", "viewer", PageRole.VIEWER, joined_minutes=1),
        member("p1", "editor", PageRole.EDITOR, joined_minutes=2),
        member("p2", "gone", PageRole.OWNER),
        member("p2", "co-owner", PageRole.OWNER),
        member("p2", "admin", PageRole.ADMIN),
    )
    handle(deleted("gone"))
    assert members(store) == {
        ("p1", "editor"): PageRole.OWNER,
        ("p1", "viewer"): PageRole.VIEWER,
        ("p2", "co-owner"): PageRole.OWNER,
        ("p2", "admin"): PageRole.ADMIN,  # p2 still has an owner: nobody is promoted
    }


def invited(invitation_id: str, page: str, email: str) -> Invitation:
    at = T0 - timedelta(days=1)
    return Invitation(
        invitation_id,
        page,
        email,
        PageRole.EDITOR,
        "alice",
        f"hash-{invitation_id}",
        created_at=at,
        expires_at=at + timedelta(days=7),
    )


def test_the_pending_invitations_to_the_users_address_are_revoked() -> None:
    handle, store = world(
        member("p1", "gone", PageRole.VIEWER),
        invitations=(invited("i1", "p2", "gone@x.io"), invited("i2", "p3", "gone@x.io"), invited("i3", "p2", "x@x.io")),
    )
    assert handle(deleted("gone", email="Gone@X.io")) is True
    states = {key: i.state for key, i in store.tables["page_invitations"].items()}
    assert states == {"i1": InvitationState.REVOKED, "i2": InvitationState.REVOKED, "i3": InvitationState.PENDING}
    assert sorted(e.about for e in events(store) if e.kind == "InvitationChanged") == ["gone@x.io", "gone@x.io"]


def test_a_page_with_no_other_member_is_left_without_members() -> None:
    handle, store = world(member("p1", "gone", PageRole.OWNER))
    assert handle(deleted("gone")) is True
    assert members(store) == {}


def test_each_delivery_is_applied_once_and_a_replay_changes_nothing() -> None:
    handle, store = world(member("p1", "gone", PageRole.OWNER), member("p1", "admin", PageRole.ADMIN))
    assert handle(deleted("gone")) is True
    after = (members(store), len(events(store)))
    assert handle(deleted("gone")) is False  # redelivered: the inbox has it
    assert handle(deleted("gone", message_id="m2")) is True  # republished: no rows left to act on
    assert (members(store), len(events(store))) == after


@pytest.mark.parametrize(
    "envelope",
    [
        build_envelope(UserCreated(), source="user", external_id="users/1"),
        build_envelope(UserDeleted(name="users/1"), source="user", external_id="users/1"),
    ],
    ids=["another event", "no subject"],
)
def test_an_event_it_cannot_use_is_a_permanent_failure(envelope: object) -> None:
    handle, store = world(member("p1", "gone", PageRole.OWNER))
    with pytest.raises(PermanentFailure):
        handle(Delivery("company.user-deletions", "m", envelope, 1))  # type: ignore[arg-type]
    assert members(store) == {("p1", "gone"): PageRole.OWNER}

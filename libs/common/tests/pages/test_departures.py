"""A deleted account leaves every page (the page services' UserDeleted handler), on the in-memory unit of
work: member rows and the personal data in them go, a sole owner's page goes to its next member or, with
nobody left, is marked orphaned (once: a replay never moves the mark), each delivery is applied once, and
an event the handler cannot use is dead-lettered."""

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
from devinsider_common.testing.memory import MemoryPage, MemoryPageUow, MemoryStore, RecordedEvent
from devinsider_common.testing.pages import user_deleted

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=1)  # the handler's clock


def member(page: str, subject: str, role: PageRole, joined_minutes: int = 0) -> Member:
    at = T0 + timedelta(minutes=joined_minutes)
    return Member(page, subject, role, display_name=subject.title(), email=f"{subject}@x.io", created_at=at)


def world(
    *rows: Member, invitations: tuple[Invitation, ...] = (), pages: tuple[MemoryPage, ...] = ()
) -> tuple[AccountDeletions, MemoryStore]:
    """The handler on a store with these members and invitations, and their pages (`pages` replace
    the plain live pages of the members' page ids)."""
    store = MemoryStore()
    members = {(m.page_id, m.subject): m for m in rows}
    live = {m.page_id: MemoryPage(m.page_id, m.page_id.upper(), updated_at=T0) for m in rows}
    store.publish(
        {
            "pages": live | {p.id: p for p in pages},
            "page_members": members,
            "page_invitations": {i.id: i for i in invitations},
        }
    )
    return AccountDeletions("company", lambda: MemoryPageUow(store), FakeClock(NOW)), store


def deleted(subject: str, message_id: str = "m1", email: str = "") -> Delivery:
    return user_deleted("company.user-deletions", subject, email, message_id)


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


def orphaned_at(store: MemoryStore, page: str) -> datetime | None:
    stored: MemoryPage = store.tables["pages"][page]
    return stored.orphaned_at


def test_a_page_left_with_no_member_is_marked_orphaned_in_the_same_transaction() -> None:
    handle, store = world(member("p1", "gone", PageRole.OWNER), member("p2", "gone", PageRole.EDITOR))
    commits = store.commits
    assert handle(deleted("gone")) is True
    assert members(store) == {}
    assert (orphaned_at(store, "p1"), orphaned_at(store, "p2")) == (NOW, None)  # p2: she did not own it
    assert store.tables["pages"]["p1"].updated_at == NOW
    (updated,) = [e for e in events(store) if e.kind == "PageUpdated"]
    assert (updated.about, updated.details["changed"]) == ("p1", ["orphan_time"])
    assert store.commits == commits + 1  # the mark, its event, the removals and the inbox record: one commit


def test_a_page_handed_over_or_with_another_owner_is_not_marked() -> None:
    handle, store = world(
        member("p1", "gone", PageRole.OWNER),
        member("p1", "viewer", PageRole.VIEWER),
        member("p2", "gone", PageRole.OWNER),
        member("p2", "co-owner", PageRole.OWNER),
    )
    handle(deleted("gone"))
    assert (orphaned_at(store, "p1"), orphaned_at(store, "p2")) == (None, None)
    assert [e for e in events(store) if e.kind == "PageUpdated"] == []


def test_a_replay_never_moves_the_mark_and_a_deleted_page_is_not_marked() -> None:
    earlier = T0 - timedelta(days=3)
    handle, store = world(
        member("p1", "gone", PageRole.OWNER),  # already marked: say a first delivery's effect
        member("p2", "gone", PageRole.OWNER),
        pages=(
            MemoryPage("p1", "P1", orphaned_at=earlier, updated_at=earlier),
            MemoryPage("p2", "P2", is_deleted=True),
        ),
    )
    assert handle(deleted("gone")) is True
    assert (orphaned_at(store, "p1"), store.tables["pages"]["p1"].updated_at) == (earlier, earlier)
    assert orphaned_at(store, "p2") is None
    assert [e.kind for e in events(store)] == ["MemberRemoved", "MemberRemoved"]
    assert handle(deleted("gone", message_id="m2")) is True  # republished: nothing left to act on
    assert orphaned_at(store, "p1") == earlier and len(events(store)) == 2


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

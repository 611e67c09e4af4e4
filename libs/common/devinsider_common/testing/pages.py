"""What the tests of the company, investor and program services share about their pages: the contracts of
the orphan mark (`pages.ports.PageOrphans`) and of a page read for its viewer (`get_for_viewer`), asserted
alike on a service's in-memory unit of work and on its SQL one (PostgreSQL, SQLite), and the delivery of a
`UserDeleted` to a service's departures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from google.protobuf.message import Message
from sqlalchemy import select

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.consumer import Delivery
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.envelope import build_envelope, from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.model import Member, PageForViewer
from devinsider_common.pages.ports import MembershipUnitOfWork
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.memory import MemoryUnitOfWork, RecordedEvent
from devinsider_common.unit_of_work import UnitOfWorkFactory


def user_deleted(queue: str, subject: str, email: str = "", message_id: str = "m1") -> Delivery:
    """The user service's `UserDeleted` of `subject` as `queue` (`<service>.user-deletions`) receives it."""
    event = UserDeleted(name="users/1", subject=subject, email=email)
    return Delivery(queue, message_id, build_envelope(event, source="user", external_id="users/1"), 1)


def check_orphan_mark(
    uow: Callable[[], MembershipUnitOfWork],
    page_id: str,
    deleted_id: str,
    at: datetime,
    marked: Callable[[], None] = lambda: None,
) -> None:
    """A live page is marked once (a second mark keeps the first), a deleted page never; the mark reads
    back, in UTC, once committed, and is cleared once. `marked` runs while the mark is committed (the
    service's own checks: its page row, its `*Updated` event, its list filter)."""
    with uow() as u:
        assert u.orphans.mark(page_id, at) is True
        assert u.orphans.mark(page_id, at + timedelta(hours=1)) is False
        assert u.orphans.mark(deleted_id, at) is False
        assert u.orphans.mark("no-such-page", at) is False
        u.commit()
    with uow() as u:
        assert (u.orphans.orphaned_at(page_id), u.orphans.orphaned_at(deleted_id)) == (at, None)
    marked()
    with uow() as u:
        assert u.orphans.clear(page_id, at + timedelta(days=1)) is True
        assert u.orphans.clear(page_id, at + timedelta(days=2)) is False
        u.commit()
    with uow() as u:
        assert u.orphans.orphaned_at(page_id) is None


def check_page_for_viewer(
    uow: UnitOfWorkFactory[Any], pages: Callable[[Any], Any], page_id: str, other_id: str, unlocks: bool
) -> None:
    """`pages(u).get_for_viewer` on the committed pages `page_id` and `other_id` (the service's page store of
    a unit of work `u`): the viewer's role on that page only, the pages that unlocked it (each once, by name;
    with `unlocks`, the service's unlock projection `u.unlocks`, else none), nothing of a viewer without a
    subject, None for an unknown page; read in a read-only unit of work, as GetCompany/GetInvestor/GetProgram do."""
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with uow() as u:
        u.members.add(Member(page_id, "kc-owner", PageRole.OWNER, "", "Owner", "owner@example.com", at, at))
        u.members.add(Member(other_id, "kc-viewer", PageRole.VIEWER, "", "Viewer", "viewer@example.com", at, at))
        if unlocks:
            u.unlocks.record("programs/p1/unlocks/a", page_id, "programs/p1", at)
            u.unlocks.record("investors/i1/unlocks/b", page_id, "investors/i1", at + timedelta(seconds=1))
            u.unlocks.record("investors/i1/unlocks/c", page_id, "investors/i1", at + timedelta(seconds=2))
            u.unlocks.record("investors/i2/unlocks/d", other_id, "investors/i2", at)
        u.commit()
    unlockers, others = (("investors/i1", "programs/p1"), ("investors/i2",)) if unlocks else ((), ())
    with uow(read_only=True) as u:
        store = pages(u)
        page = store.get(page_id)

        def seen(page_id: str, subject: str | None) -> tuple[Any, PageRole | None, tuple[str, ...]] | None:
            found: PageForViewer[Any] | None = store.get_for_viewer(page_id, subject)
            return None if found is None else (found.page, found.role, found.unlockers)

        assert page is not None
        assert seen(page_id, "kc-owner") == (page, PageRole.OWNER, unlockers)
        assert seen(page_id, "kc-viewer") == (page, None, unlockers)  # a member of another page only
        assert seen(page_id, "kc-stranger") == (page, None, unlockers)
        assert seen(page_id, None) == (page, None, ())  # no viewer: nothing to see beyond the page
        assert seen(other_id, "kc-viewer") == (store.get(other_id), PageRole.VIEWER, others)
        assert seen("no-such-page", "kc-owner") is None


def page_updates(
    uow: SqlUnitOfWork | MemoryUnitOfWork, event: type[Message], page: str
) -> list[tuple[list[str], bool]]:
    """The `*Updated` events (`event`, e.g. CompanyUpdated) a unit of work has recorded so far, as (changed
    fields, whether the page they carry in `page` is marked orphaned): from its outbox table on the
    database, from its `outbox` table of RecordedEvents (with the page in `details[page]`) on the fake."""
    if isinstance(uow, SqlUnitOfWork):
        bodies = uow.connection.execute(select(outbox_messages.c.body).order_by(outbox_messages.c.id)).scalars()
        envelopes = [from_json(body) for body in bodies]
        mine = [e for e in envelopes if e.payload.TypeName() == event.DESCRIPTOR.full_name]
        messages: list[Any] = [unpack_payload(e, event) for e in mine]
        return [(list(m.changed_fields), getattr(m, page).HasField("orphan_time")) for m in messages]
    outbox: dict[int, RecordedEvent] = uow.table("outbox")
    recorded = [e for _, e in sorted(outbox.items()) if e.kind == event.DESCRIPTOR.name]
    return [
        (list(cast(list[str], e.details["changed"])), getattr(e.details[page], "orphaned_at", None) is not None)
        for e in recorded
    ]

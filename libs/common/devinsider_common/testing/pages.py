"""What the tests of the company, investor and program services share about their pages: the contract of
the orphan mark (`pages.ports.PageOrphans`), asserted alike on a service's in-memory unit of work and on
its SQL one (PostgreSQL, SQLite), and the delivery of a `UserDeleted` to a service's departures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from google.protobuf.message import Message
from sqlalchemy import select

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.consumer import Delivery
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.envelope import build_envelope, from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.ports import MembershipUnitOfWork
from devinsider_common.testing.memory import MemoryUnitOfWork, RecordedEvent


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

"""Whether a viewer's organisation unlocked a page's contact details, answered by the page's own service
(company, investor) without asking billing.

Billing stays the source of unlocks: each `UnlockCreated` it publishes on `unlock.exchange.fanout` reaches
the page service's queue `<service>.unlocks`, whose handler (`UnlockProjector`) records the pair
(target page, unlocking page) in the service's `page_unlocks` table, once per unlock, in the transaction
of the inbox record. `devinsider-billing-replay-unlocks` publishes every unlock again to rebuild the
table. A viewer sees the contacts when one of the pages that unlocked the target is an organisation the
viewer belongs to: the local table names those pages (read with the page itself, in the same statement:
`pages.repositories.viewer_columns`), and their own services answer the membership (CheckPageAccess,
cached for UNLOCK_CACHE_TTL_SECONDS). A page nobody unlocked costs no call.
An unlock shows once its event is consumed: the relay's interval plus the consumer's latency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from devinsider.billing.v1.events_pb2 import UnlockCreated
from devinsider_common import errors
from devinsider_common.cache import Cache
from devinsider_common.consumer import ConsumerQueue, Delivery, Inbox, PermanentFailure, Subscription
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.outbox.topology import UNLOCK, Binding
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pages.services import PagesAccess
from devinsider_common.unit_of_work import UnitOfWork

log = structlog.get_logger("devinsider.unlocks")

TZ = sa.DateTime(timezone=True)


def _unlock_columns() -> list[Any]:
    return [
        sa.Column("unlock", sa.String(255), primary_key=True),  # billing's resource name
        sa.Column("target_id", sa.String(36), nullable=False),
        sa.Column("unlocker", sa.String(64), nullable=False),  # `investors/{id}`, `programs/{id}`...
        sa.Column("created_at", TZ, nullable=False),
        sa.Index("ix_page_unlocks_target", "target_id"),
    ]


def define_unlock_table(metadata: sa.MetaData) -> sa.Table:
    """The projection's table in a page service's MetaData (its revisions write the operations out)."""
    return sa.Table("page_unlocks", metadata, *_unlock_columns())


class UnlockStore(Protocol):
    """The projection's writes (SQL: `SqlUnlockStore`; tests: `devinsider_common.testing.memory.MemoryUnlocks`);
    it is read with the page (`get_for_viewer` of the service's page store)."""

    def record(self, unlock: str, target_id: str, unlocker: str, created_at: datetime) -> bool:
        """Record an unlock of the page `target_id`; False when it was recorded before."""
        ...


class SqlUnlockStore:
    def __init__(self, connection: Connection, table: sa.Table) -> None:
        self._connection = connection
        self._table = table

    def record(self, unlock: str, target_id: str, unlocker: str, created_at: datetime) -> bool:
        insert = postgresql.insert if self._connection.dialect.name == "postgresql" else sqlite.insert
        values = {"unlock": unlock, "target_id": target_id, "unlocker": unlocker, "created_at": created_at}
        statement = insert(self._table).values(values).on_conflict_do_nothing().returning(self._table.c.unlock)
        return self._connection.execute(statement).first() is not None


class UnlockUnitOfWork(UnitOfWork, Protocol):
    """What the projector needs of a page service's unit of work."""

    @property
    def inbox(self) -> Inbox: ...

    @property
    def unlocks(self) -> UnlockStore: ...


class UnlockProjector:
    """The handler of `<service>.unlocks`: records the unlocks of this service's pages, each once.

    `kind` None records the unlocks of every kind of page (the contact service, which owns no page): the
    store then gets the target's full name (`companies/{id}`) where a page service gets its page's id."""

    def __init__(self, service: str, kind: PageKind | None, uow: Callable[[], UnlockUnitOfWork]) -> None:
        self.queue = ConsumerQueue(f"{service}.unlocks", (Binding(UNLOCK, f"{service}.unlocks", ""),))
        self._kind = kind
        self._uow = uow

    def subscription(self) -> Subscription:
        return Subscription(self.queue, self)

    def __call__(self, delivery: Delivery) -> bool:
        event = delivery.payload(UnlockCreated)
        target = event.unlock.target.name
        target_id = target.partition("/")[2]
        if self._kind is not None and PageKind.of(target) is not self._kind:
            return False  # another service's page (the exchange fans out to every page service)
        if not target_id or PageKind.of(target) is None or not event.unlocker.name:
            raise PermanentFailure(f"an unlock without its target or unlocker: {event.unlock.name!r}")
        if self._kind is None:
            target_id = target  # every kind in one table: the full name tells them apart
        created = event.unlock.create_time.ToDatetime(UTC) if event.unlock.HasField("create_time") else None
        with self._uow() as uow:
            if not uow.inbox.first_time(self.queue.name, delivery.message_id):
                return False
            recorded = uow.unlocks.record(
                event.unlock.name, target_id, event.unlocker.name, created or datetime.now(UTC)
            )
            uow.commit()
        log.info("unlock.projected", target=target, unlocker=event.unlocker.name, new=recorded)
        return recorded


class UnlockChecker(Protocol):
    """Whether an organisation the viewer belongs to unlocked a page's contact details."""

    def has_unlocked(self, target: str, subject: str, unlockers: Sequence[str]) -> bool:
        """`target` is the page (`companies/{id}`, `investors/{id}`); `subject` the viewer's Keycloak subject;
        `unlockers` the pages that unlocked the target, read with it (`PageForViewer.unlockers`)."""
        ...


class MembershipCheck(Protocol):
    """Whether `subject` holds `permission` on a page of another service (`PagesAccess`)."""

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool: ...


class ProjectedUnlocks:
    """The checker on the projection: given the pages that unlocked the target (read locally, with the
    page), whether the viewer is a member of one (their services, cached). An unreachable service hides
    nothing it could not confirm: the viewer gets the public view (fail closed) and a warning is logged."""

    def __init__(self, access: MembershipCheck) -> None:
        self._access = access

    def has_unlocked(self, target: str, subject: str, unlockers: Sequence[str]) -> bool:
        for unlocker in unlockers:
            try:
                if self._access.allowed(unlocker, subject, PagePermission.VIEW_PRIVATE):
                    return True
            except errors.DomainError as error:  # Unavailable: its service could not be asked
                log.warning("unlock.membership_check_failed", target=target, unlocker=unlocker, error=str(error))
        return False


def projected_unlocks(
    channels: ChannelFactory, targets: Mapping[PageKind, str], cache: Cache, ttl: float
) -> ProjectedUnlocks:
    """A page service's checker: the membership asked of the services in `targets` (kind -> gRPC target;
    `channels` carry this service's own identity, since CheckPageAccess is service-only)."""
    return ProjectedUnlocks(PagesAccess.connect(channels, targets, cache, ttl))

"""The unlock projection: the shared store's writes (`SqlUnlockStore.record`, called by the shared
`UnlockProjector`) and the contact service's reads."""

from __future__ import annotations

from sqlalchemy import Connection, and_, or_, select

from contact_service.adapters.tables import page_unlocks
from contact_service.domain.unlocks import PageUnlock, open_unlock_position
from devinsider_common.clock import as_utc
from devinsider_common.pages.names import PageName, parse_page
from devinsider_common.pages.unlocks import SqlUnlockStore
from devinsider_common.pagination import ListWindow

u = page_unlocks.c


class PageUnlockRepository(SqlUnlockStore):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, page_unlocks)
        self._connection = connection

    def has_unlocked(self, unlocker: PageName, target: PageName) -> bool:
        query = select(u.unlock).where(u.unlocker == unlocker.name, u.target_id == target.name).limit(1)
        return self._connection.execute(query).first() is not None

    def list_after(self, target: PageName, window: ListWindow) -> list[PageUnlock]:
        query = select(page_unlocks).where(u.target_id == target.name)
        after = open_unlock_position(window.after)
        if after is not None:
            when, unlock = after
            query = query.where(or_(u.created_at < when, and_(u.created_at == when, u.unlock < unlock)))
        query = query.order_by(u.created_at.desc(), u.unlock.desc()).limit(window.size + 1)
        return [
            PageUnlock(row["unlock"], target, parse_page(row["unlocker"]), as_utc(row["created_at"]))
            for row in self._connection.execute(query).mappings()
        ]

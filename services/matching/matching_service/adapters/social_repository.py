"""Favorites, blocks, the matches already announced and the announcements still owed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, RowMapping, Table, delete, insert, literal, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pagination import ListWindow
from matching_service.adapters.tables import blocks, favorites, notified_matches, pending_announcements
from matching_service.domain.social import Block, Favorite


def _ref(name: str) -> PageName:
    return parse_page(name, "page")


def _favorite(row: RowMapping) -> Favorite:
    return Favorite(row["id"], _ref(row["owner"]), _ref(row["page"]), row["creator"], row["created_at"])


def _block(row: RowMapping) -> Block:
    return Block(row["id"], _ref(row["blocker"]), _ref(row["page"]), row["reason"], row["creator"], row["created_at"])


class FavoriteRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def forget_creator(self, subject: str) -> int:
        return _forget_creator(self._connection, favorites, subject)

    def find(self, owner: str, page: str) -> Favorite | None:
        query = select(favorites).where(favorites.c.owner == owner, favorites.c.page == page)
        row = self._connection.execute(query).mappings().first()
        return _favorite(row) if row else None

    def get(self, owner: str, favorite_id: str) -> Favorite | None:
        query = select(favorites).where(favorites.c.owner == owner, favorites.c.id == favorite_id)
        row = self._connection.execute(query).mappings().first()
        return _favorite(row) if row else None

    def add(self, favorite: Favorite) -> None:
        self._connection.execute(
            insert(favorites).values(
                id=favorite.id,
                owner=favorite.owner.name,
                page=favorite.page.name,
                page_kind=int(favorite.page.kind),
                creator=favorite.creator,
                created_at=favorite.created_at,
            )
        )

    def remove(self, favorite_id: str) -> None:
        self._connection.execute(delete(favorites).where(favorites.c.id == favorite_id))

    def list_after(self, owner: str, window: ListWindow, kind: PageKind | None) -> list[Favorite]:
        """Newest first (UUIDv7 ids sort by creation time)."""
        query = select(favorites).where(favorites.c.owner == owner)
        if kind is not None:
            query = query.where(favorites.c.page_kind == int(kind))
        if window.after:
            query = query.where(favorites.c.id < str(window.after[0]))
        rows = self._connection.execute(query.order_by(favorites.c.id.desc()).limit(window.size + 1)).mappings()
        return [_favorite(r) for r in rows]

    def pages_of(self, owner: str) -> set[str]:
        return set(self._connection.execute(select(favorites.c.page).where(favorites.c.owner == owner)).scalars())


def _forget_creator(connection: Connection, table: Table, subject: str) -> int:
    erased = connection.execute(
        update(table).where(table.c.creator == subject).values(creator="").returning(table.c.id)
    )
    return len(erased.all())


class BlockRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def forget_creator(self, subject: str) -> int:
        return _forget_creator(self._connection, blocks, subject)

    def find(self, blocker: str, page: str) -> Block | None:
        row = (
            self._connection.execute(select(blocks).where(blocks.c.blocker == blocker, blocks.c.page == page))
            .mappings()
            .first()
        )
        return _block(row) if row else None

    def get(self, blocker: str, block_id: str) -> Block | None:
        row = (
            self._connection.execute(select(blocks).where(blocks.c.blocker == blocker, blocks.c.id == block_id))
            .mappings()
            .first()
        )
        return _block(row) if row else None

    def add(self, block: Block) -> None:
        self._connection.execute(
            insert(blocks).values(
                id=block.id,
                blocker=block.blocker.name,
                page=block.page.name,
                page_kind=int(block.page.kind),
                reason=block.reason,
                creator=block.creator,
                created_at=block.created_at,
            )
        )

    def remove(self, block_id: str) -> None:
        self._connection.execute(delete(blocks).where(blocks.c.id == block_id))

    def list_after(self, blocker: str, window: ListWindow) -> list[Block]:
        """Newest first (UUIDv7 ids sort by creation time)."""
        query = select(blocks).where(blocks.c.blocker == blocker)
        if window.after:
            query = query.where(blocks.c.id < str(window.after[0]))
        rows = self._connection.execute(query.order_by(blocks.c.id.desc()).limit(window.size + 1)).mappings()
        return [_block(r) for r in rows]

    def either_way(self, a: str, b: str) -> bool:
        query = select(blocks.c.id).where(
            or_((blocks.c.blocker == a) & (blocks.c.page == b), (blocks.c.blocker == b) & (blocks.c.page == a))
        )
        return self._connection.execute(query.limit(1)).first() is not None

    def counterparts(self, page: str) -> set[str]:
        """Every page this page blocked or was blocked by (both leave each other's matches)."""
        mine = select(blocks.c.page).where(blocks.c.blocker == page)
        theirs = select(blocks.c.blocker).where(blocks.c.page == page)
        return set(self._connection.execute(mine).scalars()) | set(self._connection.execute(theirs).scalars())


def hidden_and_favorites(connection: Connection, page: str) -> tuple[set[str], set[str]]:
    """The pages `page` blocked or was blocked by, and its favorites: one UNION ALL, each row tagged."""
    query = union_all(
        select(literal("b").label("kind"), blocks.c.page.label("page")).where(blocks.c.blocker == page),
        select(literal("b"), blocks.c.blocker).where(blocks.c.page == page),
        select(literal("f"), favorites.c.page).where(favorites.c.owner == page),
    )
    hidden: set[str] = set()
    favorite: set[str] = set()
    for kind, other in connection.execute(query):
        (hidden if kind == "b" else favorite).add(other)
    return hidden, favorite


class NotifiedMatches:
    """The pairs already announced (MatchFound), one row per pair: the dedup of announcements."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim(self, company: str, target: str, score: float, at: datetime) -> bool:
        """Record the pair as announced; False when it already was, also by a concurrent transaction
        (INSERT ... ON CONFLICT DO NOTHING waits for that one to commit, then inserts nothing)."""
        values = {"company": company, "target": target, "score": score, "notified_at": at}
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(notified_matches)
            .values(values)
            .on_conflict_do_nothing()
            .returning(notified_matches.c.company)
        )
        return self._connection.execute(statement).first() is not None


class PendingAnnouncements:
    """Pages whose change still owes its round of MatchFound events. A profile change adds its row in
    its own transaction; the transaction that writes the events removes it, so a crash in between
    leaves the row for the next drain instead of losing the round."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def request(self, page: str, at: datetime) -> None:
        self._connection.execute(insert(pending_announcements).values(page=page, requested_at=at))

    def claim(self, limit: int, page: str | None = None) -> list[tuple[int, str]]:
        """The oldest pending rows (of `page` only when given), locked until this transaction ends;
        rows another drainer holds are skipped on PostgreSQL (SQLite has a single writer)."""
        query = select(pending_announcements.c.id, pending_announcements.c.page)
        if page is not None:
            query = query.where(pending_announcements.c.page == page)
        query = query.order_by(pending_announcements.c.id).limit(limit)
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [(int(i), str(p)) for i, p in self._connection.execute(query)]

    def done(self, ids: Iterable[int]) -> None:
        wanted = list(ids)
        if wanted:
            self._connection.execute(delete(pending_announcements).where(pending_announcements.c.id.in_(wanted)))

    def pages(self) -> list[str]:
        """Every page with a pending row, oldest first (tests and diagnostics)."""
        query = select(pending_announcements.c.page).order_by(pending_announcements.c.id)
        return [str(p) for p in self._connection.execute(query).scalars()]

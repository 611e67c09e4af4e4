"""Favorites, blocks and the matches already announced."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, insert, or_, select

from devinsider_common.pagination import PageRequest
from matching_service.adapters.tables import blocks, favorites, notified_matches
from matching_service.domain.pages import PageKind, PageRef
from matching_service.domain.social import Block, Favorite


def _ref(name: str) -> PageRef:
    collection = name.partition("/")[0]
    kind = {k.collection: k for k in PageKind}[collection]
    return PageRef(kind, name)


def _favorite(row: RowMapping) -> Favorite:
    return Favorite(row["id"], _ref(row["owner"]), _ref(row["page"]), row["creator"], row["created_at"])


def _block(row: RowMapping) -> Block:
    return Block(row["id"], _ref(row["blocker"]), _ref(row["page"]), row["reason"], row["creator"], row["created_at"])


class FavoriteRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

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

    def list(self, owner: str, page: PageRequest, kind: PageKind | None) -> list[Favorite]:
        """Newest first (UUIDv7 ids sort by creation time)."""
        query = select(favorites).where(favorites.c.owner == owner)
        if kind is not None:
            query = query.where(favorites.c.page_kind == int(kind))
        if page.after:
            query = query.where(favorites.c.id < str(page.after[0]))
        rows = self._connection.execute(query.order_by(favorites.c.id.desc()).limit(page.size + 1)).mappings()
        return [_favorite(r) for r in rows]

    def pages_of(self, owner: str) -> set[str]:
        return set(self._connection.execute(select(favorites.c.page).where(favorites.c.owner == owner)).scalars())


class BlockRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

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

    def list(self, blocker: str, page: PageRequest) -> list[Block]:
        query = select(blocks).where(blocks.c.blocker == blocker)
        if page.after:
            query = query.where(blocks.c.id < str(page.after[0]))
        rows = self._connection.execute(query.order_by(blocks.c.id.desc()).limit(page.size + 1)).mappings()
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


class NotifiedMatches:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def known(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        wanted = list(pairs)
        companies = {c for c, _ in wanted}
        rows = self._connection.execute(
            select(notified_matches.c.company, notified_matches.c.target).where(
                notified_matches.c.company.in_(companies)
            )
        )
        existing = {(str(c), str(t)) for c, t in rows}
        return existing & set(wanted)

    def add(self, company: str, target: str, score: float, at: datetime) -> None:
        self._connection.execute(
            insert(notified_matches).values(company=company, target=target, score=score, notified_at=at)
        )

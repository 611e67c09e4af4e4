"""Notifications, the delivery log and the matches waiting for a digest."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from devinsider_common.pagination import ListWindow
from notification_service.adapters.tables import deliveries, digest_items, notifications
from notification_service.domain.digest import DigestItem
from notification_service.domain.notifications import Notification
from notification_service.domain.preferences import Category


class NotificationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, notification: Notification) -> None:
        values = {
            "id": notification.id,
            "recipient": notification.recipient,
            "category": int(notification.category),
            "kind": notification.kind,
            "title": notification.title[:400],
            "body": notification.body,
            "page": notification.page,
            "resource": notification.resource,
            "params": json.dumps(dict(notification.params), sort_keys=True),
            "created_at": notification.created_at,
            "read_at": notification.read_at,
        }
        self._connection.execute(insert(notifications).values(**values))

    def get(self, recipient: str, notification_id: str) -> Notification | None:
        query = select(notifications).where(
            notifications.c.recipient == recipient, notifications.c.id == notification_id
        )
        row = self._connection.execute(query).mappings().first()
        return _notification(row) if row is not None else None

    def list_after(
        self, recipient: str, window: ListWindow, unread_only: bool, category: Category | None
    ) -> list[Notification]:
        query = select(notifications).where(notifications.c.recipient == recipient)
        if unread_only:
            query = query.where(notifications.c.read_at.is_(None))
        if category is not None:
            query = query.where(notifications.c.category == int(category))
        if window.after:
            query = query.where(notifications.c.id < str(window.after[0]))
        query = query.order_by(notifications.c.id.desc()).limit(window.size + 1)
        return [_notification(row) for row in self._connection.execute(query).mappings()]

    def unread_count(self, recipient: str) -> int:
        query = select(func.count()).where(notifications.c.recipient == recipient, notifications.c.read_at.is_(None))
        return int(self._connection.execute(query).scalar_one())

    def mark_read(self, notification: Notification) -> None:
        query = update(notifications).where(
            notifications.c.recipient == notification.recipient,
            notifications.c.id == notification.id,
            notifications.c.read_at.is_(None),
        )
        self._connection.execute(query.values(read_at=notification.read_at))

    def mark_all_read(self, recipient: str, category: Category | None, through: str | None, at: datetime) -> int:
        query = update(notifications).where(notifications.c.recipient == recipient, notifications.c.read_at.is_(None))
        if category is not None:
            query = query.where(notifications.c.category == int(category))
        if through is not None:
            query = query.where(notifications.c.id <= through)
        return int(self._connection.execute(query.values(read_at=at)).rowcount or 0)

    def forget(self, recipient: str) -> int:
        result = self._connection.execute(delete(notifications).where(notifications.c.recipient == recipient))
        return int(result.rowcount or 0)

    def delete_before(self, before: datetime, limit: int) -> int:
        oldest = select(notifications.c.id).where(notifications.c.created_at < before).limit(limit)
        result = self._connection.execute(delete(notifications).where(notifications.c.id.in_(oldest.scalar_subquery())))
        return int(result.rowcount or 0)


def _notification(row: Any) -> Notification:
    return Notification(
        id=row["id"],
        recipient=row["recipient"],
        category=Category(row["category"]),
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        page=row["page"],
        resource=row["resource"],
        params=json.loads(row["params"]),
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


class DeliveryRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def first_time(self, recipient: str, key: str, at: datetime) -> bool:
        dialect = self._connection.dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert_(deliveries)
            .values(recipient=recipient, key=key, created_at=at)
            .on_conflict_do_nothing()
            .returning(deliveries.c.recipient)  # RETURNING rather than rowcount, which psycopg may report as -1
        )
        return self._connection.execute(statement).first() is not None

    def forget(self, recipient: str) -> int:
        result = self._connection.execute(delete(deliveries).where(deliveries.c.recipient == recipient))
        return int(result.rowcount or 0)

    def delete_before(self, before: datetime, limit: int) -> int:
        oldest = select(deliveries.c.recipient, deliveries.c.key).where(deliveries.c.created_at < before).limit(limit)
        rows = self._connection.execute(oldest).all()
        for recipient, key in rows:
            self._connection.execute(
                delete(deliveries).where(deliveries.c.recipient == recipient, deliveries.c.key == key)
            )
        return len(rows)


class DigestRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, item: DigestItem) -> None:
        values = {
            "recipient": item.recipient,
            "key": item.key,
            "page": item.page,
            "page_display_name": item.page_display_name[:200],
            "match": item.match,
            "match_display_name": item.match_display_name[:200],
            "score": item.score,
            "created_at": item.created_at,
        }
        self._connection.execute(insert(digest_items).values(**values))

    def recipients_before(self, before: datetime, limit: int) -> list[str]:
        query = (
            select(digest_items.c.recipient)
            .where(digest_items.c.created_at < before)
            .group_by(digest_items.c.recipient)
            .order_by(digest_items.c.recipient)
            .limit(limit)
        )
        return list(self._connection.execute(query).scalars())

    def items_before(self, recipient: str, before: datetime) -> list[DigestItem]:
        query = (
            select(digest_items)
            .where(digest_items.c.recipient == recipient, digest_items.c.created_at < before)
            .order_by(digest_items.c.created_at, digest_items.c.key)
        )
        return [_item(row) for row in self._connection.execute(query).mappings()]

    def remove(self, recipient: str, keys: list[str]) -> int:
        query = delete(digest_items).where(digest_items.c.recipient == recipient, digest_items.c.key.in_(keys))
        return int(self._connection.execute(query).rowcount or 0)

    def forget(self, recipient: str) -> int:
        result = self._connection.execute(delete(digest_items).where(digest_items.c.recipient == recipient))
        return int(result.rowcount or 0)


def _item(row: Any) -> DigestItem:
    return DigestItem(
        row["recipient"],
        row["key"],
        row["page"],
        row["page_display_name"],
        row["match"],
        row["match_display_name"],
        row["score"],
        row["created_at"],
    )

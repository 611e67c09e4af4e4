"""Notification preferences, one row per user who changed them (the others have the defaults)."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from notification_service.adapters.tables import preferences
from notification_service.domain.preferences import Category, Channels, DigestFrequency, Preferences


class PreferenceRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, user: str) -> Preferences | None:
        row = self._connection.execute(select(preferences).where(preferences.c.user == user)).mappings().first()
        return _preferences(row) if row is not None else None

    def save(self, value: Preferences) -> None:
        channels = {c.key: {"in_app": value.channel(c).in_app, "mail": value.channel(c).mail} for c in Category}
        values = {
            "channels": json.dumps(channels, sort_keys=True),
            "match_digest": int(value.match_digest),
            "locale": value.locale,
            "updated_at": value.updated_at,
        }
        changed = self._connection.execute(update(preferences).where(preferences.c.user == value.user).values(**values))
        if not changed.rowcount:
            self._connection.execute(insert(preferences).values(user=value.user, **values))

    def forget(self, user: str) -> int:
        return int(self._connection.execute(delete(preferences).where(preferences.c.user == user)).rowcount or 0)


def _preferences(row: Any) -> Preferences:
    stored = json.loads(row["channels"])
    channels = {
        c: Channels(bool(stored.get(c.key, {}).get("in_app", True)), bool(stored.get(c.key, {}).get("mail", True)))
        for c in Category
    }
    return Preferences(
        user=row["user"],
        channels=MappingProxyType(channels),
        match_digest=DigestFrequency(row["match_digest"]),
        locale=row["locale"],
        updated_at=row["updated_at"],
    )

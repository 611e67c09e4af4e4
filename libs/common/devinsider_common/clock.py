"""Time in UTC. SQLite hands back naive datetimes; every time we store is UTC, so `as_utc` restores it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def calendar_month(now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month holding `now`: its first instant and the next month's."""
    start = as_utc(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    )
    return start, following

"""The inbox port: a handler asks it, inside the transaction of its effect, whether a message is new.

The SQL adapter records `(consumer, message_id)` in the service's `inbox_messages` table (created by every
service's migrations with the outbox), so the record and the effect commit or roll back together: a
message applied once is never applied again, and one whose transaction failed is not marked seen.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from devinsider_common.outbox.inbox import record_once


class Inbox(Protocol):
    def first_time(self, consumer: str, message_id: str) -> bool:
        """Record `message_id` for `consumer`; True the first time, False when it was seen before."""
        ...


class SqlInbox:
    """The inbox on a unit of work's connection (its transaction)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def first_time(self, consumer: str, message_id: str) -> bool:
        return record_once(self._connection, consumer, message_id)

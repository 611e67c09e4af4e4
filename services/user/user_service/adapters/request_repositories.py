"""Verified-pro requests, support requests, blacklist entries and seen Keycloak events."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from devinsider_common.pagination import ListWindow
from user_service.adapters.tables import blacklist_entries, keycloak_events, pro_verifications, support_requests
from user_service.domain.blacklist import BlacklistEntry, BlacklistKind
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest


def _window(connection: Connection, table: Table, window: ListWindow, *where: Any) -> list[RowMapping]:
    """Rows oldest first (UUIDv7 ids), `window.size + 1` at most to tell whether a next window exists."""
    query = select(table).where(*where).order_by(table.c.id).limit(window.size + 1)
    if window.after:
        query = query.where(table.c.id > str(window.after[0]))
    return list(connection.execute(query).mappings())


def _pro_verification(row: RowMapping) -> ProVerification:
    values = dict(row)
    values["state"] = ProVerificationState(values["state"])
    values["idempotency_key"] = values["idempotency_key"] or ""
    return ProVerification(**values)


class ProVerificationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, request: ProVerification) -> None:
        values = asdict(request) | {"state": request.state.value, "idempotency_key": request.idempotency_key or None}
        self._connection.execute(insert(pro_verifications).values(**values))

    def get(self, request_id: str, lock: bool = False) -> ProVerification | None:
        query = select(pro_verifications).where(pro_verifications.c.id == request_id)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _pro_verification(row) if row else None

    def find(self, user_id: str, idempotency_key: str = "", pending: bool = False) -> ProVerification | None:
        query = select(pro_verifications).where(pro_verifications.c.user_id == user_id)
        if idempotency_key:
            query = query.where(pro_verifications.c.idempotency_key == idempotency_key)
        if pending:
            query = query.where(pro_verifications.c.state == ProVerificationState.PENDING.value)
        row = self._connection.execute(query.limit(1)).mappings().first()
        return _pro_verification(row) if row else None

    def save_decision(self, request: ProVerification) -> None:
        self._connection.execute(
            update(pro_verifications)
            .where(pro_verifications.c.id == request.id)
            .values(
                state=request.state.value,
                reviewer=request.reviewer,
                rejection_reason=request.rejection_reason,
                decided_at=request.decided_at,
            )
        )

    def list_after(
        self, window: ListWindow, user_id: str | None, state: ProVerificationState | None
    ) -> list[ProVerification]:
        where = []
        if user_id is not None:
            where.append(pro_verifications.c.user_id == user_id)
        if state is not None:
            where.append(pro_verifications.c.state == state.value)
        return [_pro_verification(row) for row in _window(self._connection, pro_verifications, window, *where)]


class SupportRequestRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, request: SupportRequest) -> None:
        values = asdict(request) | {"idempotency_key": request.idempotency_key or None}
        self._connection.execute(insert(support_requests).values(**values))

    def find(self, user_id: str, idempotency_key: str) -> SupportRequest | None:
        query = select(support_requests).where(
            support_requests.c.user_id == user_id, support_requests.c.idempotency_key == idempotency_key
        )
        row = self._connection.execute(query).mappings().first()
        return SupportRequest(**(dict(row) | {"idempotency_key": idempotency_key})) if row else None

    def created_since(self, user_id: str, since: datetime, limit: int) -> list[datetime]:
        """Creation times of the user's requests after `since`, newest first (the rate limit)."""
        t = support_requests.c
        query = select(t.created_at).where(t.user_id == user_id, t.created_at > since)
        return list(self._connection.execute(query.order_by(t.created_at.desc()).limit(limit)).scalars())

    def list_after(self, window: ListWindow) -> list[SupportRequest]:
        rows = _window(self._connection, support_requests, window)
        return [SupportRequest(**(dict(row) | {"idempotency_key": row["idempotency_key"] or ""})) for row in rows]


class BlacklistRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, entry: BlacklistEntry) -> None:
        self._connection.execute(insert(blacklist_entries).values(**(asdict(entry) | {"kind": entry.kind.value})))

    def find(self, kind: BlacklistKind, value: str) -> BlacklistEntry | None:
        query = select(blacklist_entries).where(
            blacklist_entries.c.kind == kind.value, blacklist_entries.c.value == value
        )
        row = self._connection.execute(query).mappings().first()
        return BlacklistEntry(**(dict(row) | {"kind": kind})) if row else None

    def get(self, entry_id: str) -> BlacklistEntry | None:
        row = (
            self._connection.execute(select(blacklist_entries).where(blacklist_entries.c.id == entry_id))
            .mappings()
            .first()
        )
        return BlacklistEntry(**(dict(row) | {"kind": BlacklistKind(row["kind"])})) if row else None

    def remove(self, entry_id: str) -> None:
        self._connection.execute(delete(blacklist_entries).where(blacklist_entries.c.id == entry_id))

    def list_after(self, window: ListWindow, kind: BlacklistKind | None) -> list[BlacklistEntry]:
        where = [] if kind is None else [blacklist_entries.c.kind == kind.value]
        rows = _window(self._connection, blacklist_entries, window, *where)
        return [BlacklistEntry(**(dict(row) | {"kind": BlacklistKind(row["kind"])})) for row in rows]

    def matching(self, kind: BlacklistKind, candidates: set[str]) -> set[str]:
        """Which of `candidates` are blacklisted under `kind` (an indexed lookup, not a full scan)."""
        if not candidates:
            return set()
        query = select(blacklist_entries.c.value).where(
            blacklist_entries.c.kind == kind.value, blacklist_entries.c.value.in_(sorted(candidates))
        )
        return set(self._connection.execute(query).scalars())


class KeycloakEventLog:
    """Ids of applied Keycloak events; `record` is False for an id seen before.

    The duplicate is caught here, in a savepoint, rather than left to the unit of work as a
    DuplicateRecord: PostgreSQL aborts the whole transaction on a failed insert, and a replay must
    leave the caller's unit of work usable (it commits "nothing to do"). A concurrent delivery of the
    same id waits on the primary key, then lands here too."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, event_id: str, event_type: str, received_at: datetime) -> bool:
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    insert(keycloak_events).values(id=event_id, type=event_type, received_at=received_at)
                )
        except IntegrityError:
            return False
        return True

"""Applications in PostgreSQL/SQLite: row <-> domain mapping, keyset windows (newest first)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from devinsider_common.pagination import ListWindow
from program_service.adapters.tables import applications as t
from program_service.domain.application import OPEN_STATES, Application, ApplicationState


def _to_application(row: RowMapping) -> Application:
    values = dict(row)
    values["state"] = ApplicationState(values["state"])
    values["idempotency_key"] = values["idempotency_key"] or ""
    return Application(**values)


class ApplicationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, application: Application) -> None:
        values: dict[str, Any] = asdict(application)
        values |= {"state": application.state.value, "idempotency_key": application.idempotency_key or None}
        self._connection.execute(insert(t).values(**values))

    def get(self, application_id: str, lock: bool = False) -> Application | None:
        query = select(t).where(t.c.id == application_id)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _to_application(row) if row else None

    def find_by_request(self, applicant_subject: str, idempotency_key: str) -> Application | None:
        query = select(t).where(t.c.applicant_subject == applicant_subject, t.c.idempotency_key == idempotency_key)
        row = self._connection.execute(query).mappings().first()
        return _to_application(row) if row else None

    def open_for(self, program_id: str, company_id: str) -> Application | None:
        query = select(t).where(
            t.c.program_id == program_id, t.c.company_id == company_id, t.c.state.in_([s.value for s in OPEN_STATES])
        )
        row = self._connection.execute(query.limit(1)).mappings().first()
        return _to_application(row) if row else None

    def pending_of(self, program_id: str) -> list[Application]:
        query = select(t).where(t.c.program_id == program_id, t.c.state == ApplicationState.PENDING.value)
        return [_to_application(row) for row in self._connection.execute(query.with_for_update()).mappings()]

    def save_state(self, application: Application) -> None:
        self._connection.execute(
            update(t)
            .where(t.c.id == application.id)
            .values(
                state=application.state.value,
                decider=application.decider,
                rejection_reason=application.rejection_reason,
                decided_at=application.decided_at,
            )
        )

    def list_after(
        self,
        window: ListWindow,
        program_id: str | None = None,
        company_id: str | None = None,
        state: ApplicationState | None = None,
    ) -> list[Application]:
        """Newest first (UUIDv7 ids), `window.size + 1` at most."""
        query = select(t).order_by(t.c.id.desc()).limit(window.size + 1)
        if program_id is not None:
            query = query.where(t.c.program_id == program_id)
        if company_id is not None:
            query = query.where(t.c.company_id == company_id)
        if state is not None:
            query = query.where(t.c.state == state.value)
        if window.after:
            query = query.where(t.c.id < str(window.after[0]))
        return [_to_application(row) for row in self._connection.execute(query).mappings()]

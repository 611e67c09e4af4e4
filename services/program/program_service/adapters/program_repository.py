"""Programs in PostgreSQL/SQLite: row <-> domain mapping, optimistic versioning, keyset windows
(the positions of `domain.query`)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    and_,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from devinsider_common import errors
from devinsider_common.pages.model import DirectoryWindow, PageForViewer
from devinsider_common.pages.repositories import for_viewer, read_directory, viewer_columns
from devinsider_common.pagination import ListWindow
from program_service.adapters.tables import page_tables
from program_service.adapters.tables import programs as t
from program_service.domain.program import LIST_FIELDS, Program, ProgramContent, ProgramState, ProgramType
from program_service.domain.query import EPOCH, ProgramQuery

CODE_FIELDS = ("country_codes", "regions", "industries", "solution_categories")


def _encode(name: str, values: tuple[str, ...]) -> str:
    if name in CODE_FIELDS:
        return f",{','.join(values)}," if values else ""
    return json.dumps(list(values))


def _decode(name: str, value: str) -> tuple[str, ...]:
    if name in CODE_FIELDS:
        return tuple(v for v in value.split(",") if v)
    return tuple(json.loads(value or "[]"))


def _to_program(row: RowMapping) -> Program:
    values: dict[str, Any] = {
        name: _decode(name, row[name]) if name in LIST_FIELDS else row[name]
        for name in ProgramContent.__dataclass_fields__
    }
    content = ProgramContent(**values | {"program_type": ProgramType(row["program_type"])})
    return Program(
        id=row["id"],
        content=content,
        state=ProgramState(row["state"]),
        member_company_count=row["member_company_count"],
        creator=row["creator"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        published_at=row["published_at"],
        archived_at=row["archived_at"],
        deleted_at=row["deleted_at"],
        idempotency_key=row["idempotency_key"] or "",
        version=row["version"],
        orphaned_at=row["orphaned_at"],
    )


def _to_row(program: Program) -> dict[str, Any]:
    c = program.content
    row: dict[str, Any] = {
        name: _encode(name, getattr(c, name)) if name in LIST_FIELDS else getattr(c, name)
        for name in ProgramContent.__dataclass_fields__
    }
    row["program_type"] = int(c.program_type or 0)
    return row | {
        "id": program.id,
        "state": program.state.value,
        "member_company_count": program.member_company_count,
        "creator": program.creator,
        "created_at": program.created_at,
        "updated_at": program.updated_at,
        "published_at": program.published_at,
        "archived_at": program.archived_at,
        "deleted_at": program.deleted_at,
        "idempotency_key": program.idempotency_key or None,
        "version": program.version,
        "orphaned_at": program.orphaned_at,
    }


def _sort_key(order_by: str) -> tuple[ColumnElement[Any], bool]:
    """(expression, descending) of an order."""
    if order_by == "publish_time desc":
        return func.coalesce(t.c.published_at, literal(EPOCH, t.c.published_at.type)), True
    if order_by == "update_time desc":
        return t.c.updated_at, True
    return func.lower(t.c.display_name), False


class ProgramRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, program: Program) -> None:
        self._connection.execute(insert(t).values(**_to_row(program)))

    def get(self, program_id: str, lock: bool = False) -> Program | None:
        query = select(t).where(t.c.id == program_id)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _to_program(row) if row else None

    def get_for_viewer(self, program_id: str, subject: str | None) -> PageForViewer[Program] | None:
        query = select(t, *viewer_columns(t.c.id, subject, page_tables)).where(t.c.id == program_id)
        row = self._connection.execute(query).mappings().first()
        return for_viewer(row, _to_program(row)) if row else None

    def find_by_request(self, creator: str, idempotency_key: str) -> Program | None:
        query = select(t).where(t.c.creator == creator, t.c.idempotency_key == idempotency_key)
        row = self._connection.execute(query).mappings().first()
        return _to_program(row) if row else None

    def save(self, program: Program) -> Program:
        """Write `program` if nobody changed it since it was read (its version), bumping the version."""
        saved = replace(program, version=program.version + 1)
        result = self._connection.execute(
            update(t).where(t.c.id == program.id, t.c.version == program.version).values(**_to_row(saved))
        )
        if result.rowcount != 1:
            raise errors.Conflict(f"{program.name} changed concurrently; retry", reason="CONCURRENT_UPDATE")
        return saved

    def get_many(self, program_ids: Collection[str]) -> dict[str, Program]:
        if not program_ids:
            return {}
        query = select(t).where(t.c.id.in_(sorted(set(program_ids))), t.c.deleted_at.is_(None))
        return {row["id"]: _to_program(row) for row in self._connection.execute(query).mappings()}

    def list_after(self, window: ListWindow, query: ProgramQuery) -> DirectoryWindow[Program]:
        """`window.size + 1` programs at most, in the query's order (the extra one tells there is a next one),
        with the role of `query.viewer` on each and how many programs the query finds: one statement
        (`read_directory`)."""
        key, descending = _sort_key(query.order_by)
        statement = select(t).where(*self._where(query)).limit(window.size + 1)
        statement = statement.order_by(key.desc(), t.c.id.desc()) if descending else statement.order_by(key, t.c.id)
        if window.after:
            after_key: Any = str(window.after[0])
            if descending:
                after_key = datetime.fromisoformat(after_key)
            after_id = str(window.after[1])
            if descending:
                statement = statement.where(or_(key < after_key, and_(key == after_key, t.c.id < after_id)))
            else:
                statement = statement.where(or_(key > after_key, and_(key == after_key, t.c.id > after_id)))
        matching = select(t.c.id).where(*self._where(query))
        return read_directory(self._connection, statement, matching, t.c.id, query.viewer, page_tables, _to_program)

    @staticmethod
    def _where(query: ProgramQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [
            t.c.deleted_at.is_(None),
            t.c.state.in_([s.value for s in query.states]),
        ]
        m = page_tables.members.c
        member = exists().where(m.page_id == t.c.id, m.subject == query.viewer) if query.viewer else false()
        if query.only_member_of:
            where.append(member)
        if query.orphaned:
            where.append(t.c.orphaned_at.is_not(None))
        if not query.see_all:
            where.append(or_(t.c.state == ProgramState.PUBLISHED.value, member))
        if query.text:
            needle = query.text.lower()
            columns = (t.c.display_name, t.c.vendor_name, t.c.tagline, t.c.description)
            where.append(or_(*(func.lower(c).contains(needle, autoescape=True) for c in columns)))
        if query.types:
            where.append(t.c.program_type.in_([int(v) for v in query.types]))
        if query.country_codes:
            where.append(or_(*(t.c.country_codes.contains(f",{c},", autoescape=True) for c in query.country_codes)))
        if query.industries:
            where.append(or_(*(t.c.industries.contains(f",{c},", autoescape=True) for c in query.industries)))
        if query.vendor_company:
            where.append(t.c.vendor_company == query.vendor_company)
        return where

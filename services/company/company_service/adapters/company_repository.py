"""Companies in PostgreSQL/SQLite: row <-> domain mapping, tags, optimistic versioning, directory windows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, delete, exists, insert, or_, select, update

from company_service.adapters.tables import companies, company_tags, page_tables, page_unlocks
from company_service.domain.content import content_from_json, content_to_json
from company_service.domain.directory import ORDERS, TOTAL_SIZE_CAP, DirectoryQuery, search_text, sort_name
from company_service.domain.model import Company, CompanyState, Logo, claim_from_json, claim_to_json
from devinsider_common import errors
from devinsider_common.pages.model import DirectoryWindow, PageForViewer
from devinsider_common.pages.repositories import for_viewer, read_directory, viewer_columns
from devinsider_common.pagination import ListWindow

TAG_KINDS = {
    "industry": "industries",
    "solution_category": "solution_categories",
    "target_region": "target_regions",
    "licensing_model": "licensing_models",
}


def _to_company(row: RowMapping) -> Company:
    return Company(
        id=row["id"],
        content=content_from_json(row["profile"]),
        state=CompanyState(row["state"]),
        logo=Logo(row["logo_key"], row["logo_content_type"]) if row["logo_key"] else None,
        claim=claim_from_json(row["claim"]) if row["claim"] else None,
        founder=row["founder"],
        creator=row["creator"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
        orphaned_at=row["orphaned_at"],
        version=row["version"],
    )


def _to_row(company: Company) -> dict[str, Any]:
    c = company.content
    return {
        "id": company.id,
        "display_name": c.display_name,
        "sort_name": sort_name(c.display_name),
        "search_text": search_text(c),
        "hq_country_code": c.hq_country_code,
        "company_size": int(c.company_size),
        "looking_for_funding": c.financials.looking_for_funding,
        "state": company.state.value,
        "profile": content_to_json(c),
        "logo_key": company.logo.key if company.logo else None,
        "logo_content_type": company.logo.content_type if company.logo else None,
        "claim": claim_to_json(company.claim) if company.claim else None,
        "founder": company.founder,
        "creator": company.creator,
        "idempotency_key": company.idempotency_key,
        "created_at": company.created_at,
        "updated_at": company.updated_at,
        "deleted_at": company.deleted_at,
        "orphaned_at": company.orphaned_at,
        "version": company.version,
    }


class CompanyRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, company_id: str, lock: bool = False) -> Company | None:
        query = select(companies).where(companies.c.id == company_id)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _to_company(row) if row else None

    def get_for_viewer(self, company_id: str, subject: str | None) -> PageForViewer[Company] | None:
        viewer = viewer_columns(companies.c.id, subject, page_tables, page_unlocks)
        query = select(companies, *viewer).where(companies.c.id == company_id)
        row = self._connection.execute(query).mappings().first()
        return for_viewer(row, _to_company(row)) if row else None

    def get_many(self, ids: Sequence[str]) -> dict[str, Company]:
        rows = self._connection.execute(select(companies).where(companies.c.id.in_(list(ids)))).mappings()
        return {row["id"]: _to_company(row) for row in rows}

    def by_idempotency_key(self, creator: str, key: str) -> Company | None:
        query = select(companies).where(companies.c.creator == creator, companies.c.idempotency_key == key)
        row = self._connection.execute(query).mappings().first()
        return _to_company(row) if row else None

    def live_founded_by(self, subject: str) -> Company | None:
        query = select(companies).where(companies.c.founder == subject, companies.c.state != CompanyState.DELETED.value)
        row = self._connection.execute(query.limit(1)).mappings().first()
        return _to_company(row) if row else None

    @staticmethod
    def title_query(company_id: str) -> Select[tuple[str]]:
        """The display name of a page that is not deleted."""
        return select(companies.c.display_name).where(
            companies.c.id == company_id, companies.c.state != CompanyState.DELETED.value
        )

    def title(self, company_id: str) -> str | None:
        return self._connection.execute(self.title_query(company_id)).scalar()

    def titles(self, ids: Sequence[str]) -> dict[str, str]:
        query = select(companies.c.id, companies.c.display_name).where(companies.c.id.in_(list(ids)))
        return {row.id: row.display_name for row in self._connection.execute(query)}

    def add(self, company: Company) -> None:
        self._connection.execute(insert(companies).values(**_to_row(company)))
        self._write_tags(company)

    def save(self, company: Company) -> Company:
        """Write `company` if nobody changed it since it was read (its version), bumping the version."""
        saved = replace(company, version=company.version + 1)
        result = self._connection.execute(
            update(companies)
            .where(companies.c.id == company.id, companies.c.version == company.version)
            .values(**_to_row(saved))
        )
        if result.rowcount != 1:
            raise errors.Conflict(f"{company.name} changed concurrently; retry", reason="CONCURRENT_UPDATE")
        self._write_tags(saved)
        return saved

    def _write_tags(self, company: Company) -> None:
        self._connection.execute(delete(company_tags).where(company_tags.c.company_id == company.id))
        rows = [
            {"company_id": company.id, "kind": kind, "value": str(int(v) if isinstance(v, int) else v)}
            for kind, attribute in TAG_KINDS.items()
            for v in dict.fromkeys(getattr(company.content, attribute))
        ]
        if rows:
            self._connection.execute(insert(company_tags), rows)

    def _filtered(self, q: DirectoryQuery, columns: Any) -> Select[Any]:
        query = select(*columns).where(companies.c.state.in_([s.value for s in q.states]))
        for word in q.search_words():
            query = query.where(companies.c.search_text.contains(word, autoescape=True))
        for kind, values in (
            ("industry", q.industries),
            ("solution_category", q.solution_categories),
            ("target_region", q.target_regions),
            ("licensing_model", tuple(str(int(v)) for v in q.licensing_models)),
        ):
            if values:
                t = company_tags
                query = query.where(
                    exists().where(t.c.company_id == companies.c.id, t.c.kind == kind, t.c.value.in_(list(values)))
                )
        if q.hq_country_codes:
            query = query.where(companies.c.hq_country_code.in_(list(q.hq_country_codes)))
        if q.company_sizes:
            query = query.where(companies.c.company_size.in_([int(s) for s in q.company_sizes]))
        if q.looking_for_funding is not None:
            query = query.where(companies.c.looking_for_funding == q.looking_for_funding)
        if q.orphaned:
            query = query.where(companies.c.orphaned_at.is_not(None))
        if q.member_subject is not None:
            m = page_tables.members
            query = query.where(exists().where(m.c.page_id == companies.c.id, m.c.subject == q.member_subject))
        return query

    def list_after(self, q: DirectoryQuery, window: ListWindow, viewer: str | None) -> DirectoryWindow[Company]:
        """A window of the directory in `q.order_by` order, `window.size + 1` rows at most, after the
        window's keyset position (`domain.directory.position`: the sort value, then the id), with the
        viewer's role on each and the matching pages counted up to TOTAL_SIZE_CAP + 1 (an estimate above
        the cap): one statement (`read_directory`)."""
        column_name, descending = ORDERS[q.order_by]
        key = companies.c[column_name]
        query = self._filtered(q, [companies])
        if window.after:
            after_key: Any = window.after[0]
            if column_name in ("created_at", "updated_at"):
                after_key = datetime.fromisoformat(str(after_key))
            after_id = str(window.after[1])
            if descending:
                query = query.where(or_(key < after_key, and_(key == after_key, companies.c.id < after_id)))
            else:
                query = query.where(or_(key > after_key, and_(key == after_key, companies.c.id > after_id)))
        order = (key.desc(), companies.c.id.desc()) if descending else (key.asc(), companies.c.id.asc())
        matching = self._filtered(q, [companies.c.id]).limit(TOTAL_SIZE_CAP + 1)
        return read_directory(
            self._connection,
            query.order_by(*order).limit(window.size + 1),
            matching,
            companies.c.id,
            viewer,
            page_tables,
            _to_company,
        )

"""Companies in PostgreSQL/SQLite: row <-> domain mapping, tags, optimistic versioning, directory pages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, delete, exists, func, insert, or_, select, update

from company_service.adapters.tables import companies, company_tags, page_tables
from company_service.domain.directory import ORDERS, TOTAL_SIZE_CAP, DirectoryQuery
from company_service.domain.model import (
    Claim,
    Company,
    CompanyContent,
    CompanySize,
    CompanyState,
    Contact,
    DistributionChannel,
    Financials,
    FundingRound,
    LicensingModel,
    Logo,
    Money,
    Pitch,
    RevenueRange,
)
from devinsider_common import errors
from devinsider_common.pagination import ListWindow

TAG_KINDS = {
    "industry": "industries",
    "solution_category": "solution_categories",
    "target_region": "target_regions",
    "licensing_model": "licensing_models",
}


def _money(value: dict[str, Any]) -> Money:
    return Money(value.get("currency_code", ""), int(value.get("amount_minor", 0)))


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def content_to_json(content: CompanyContent) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return {k: plain(v) for k, v in value.__dict__.items()}
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else value

    return json.dumps(plain(content), separators=(",", ":"))


def content_from_json(text: str) -> CompanyContent:
    raw = json.loads(text)
    fin = raw.get("financials", {})
    financials = Financials(
        revenue_range=RevenueRange(fin.get("revenue_range", 0)),
        looking_for_funding=bool(fin.get("looking_for_funding", False)),
        funding_target=_money(fin.get("funding_target", {})),
        funding_rounds=tuple(
            FundingRound(r["stage"], _money(r.get("amount", {})), _date(r.get("close_date")))
            for r in fin.get("funding_rounds", [])
        ),
        last_funding_date=_date(fin.get("last_funding_date")),
        total_raised=_money(fin.get("total_raised", {})),
    )

    def strings(key: str) -> tuple[str, ...]:
        return tuple(str(v) for v in raw.get(key, []))

    return CompanyContent(
        display_name=raw.get("display_name", ""),
        legal_name=raw.get("legal_name", ""),
        tagline=raw.get("tagline", ""),
        description=raw.get("description", ""),
        website_url=raw.get("website_url", ""),
        hq_country_code=raw.get("hq_country_code", ""),
        founding_year=int(raw.get("founding_year", 0)),
        company_size=CompanySize(raw.get("company_size", 0)),
        industries=strings("industries"),
        solution_categories=strings("solution_categories"),
        target_regions=strings("target_regions"),
        target_country_codes=strings("target_country_codes"),
        technology_partners=strings("technology_partners"),
        wanted_technology_partners=strings("wanted_technology_partners"),
        licensing_models=tuple(LicensingModel(v) for v in raw.get("licensing_models", [])),
        distribution_channels=tuple(DistributionChannel(v) for v in raw.get("distribution_channels", [])),
        contact=Contact(**raw.get("contact", {})),
        financials=financials,
        pitch=Pitch(**raw.get("pitch", {})),
    )


def _to_company(row: RowMapping) -> Company:
    claim = json.loads(row["claim"]) if row["claim"] else None
    return Company(
        id=row["id"],
        content=content_from_json(row["profile"]),
        state=CompanyState(row["state"]),
        logo=Logo(row["logo_key"], row["logo_content_type"]) if row["logo_key"] else None,
        claim=Claim(**claim) if claim else None,
        founder=row["founder"],
        creator=row["creator"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
        version=row["version"],
    )


def _to_row(company: Company) -> dict[str, Any]:
    c = company.content
    search = " ".join((c.display_name, c.legal_name, c.tagline, c.description)).lower()
    return {
        "id": company.id,
        "display_name": c.display_name,
        "sort_name": c.display_name.lower()[:120],
        "search_text": search,
        "hq_country_code": c.hq_country_code,
        "company_size": int(c.company_size),
        "looking_for_funding": c.financials.looking_for_funding,
        "state": company.state.value,
        "profile": content_to_json(c),
        "logo_key": company.logo.key if company.logo else None,
        "logo_content_type": company.logo.content_type if company.logo else None,
        "claim": json.dumps(company.claim.__dict__) if company.claim else None,
        "founder": company.founder,
        "creator": company.creator,
        "idempotency_key": company.idempotency_key,
        "created_at": company.created_at,
        "updated_at": company.updated_at,
        "deleted_at": company.deleted_at,
        "version": company.version,
    }


def sort_key(company: Company, order_by: str) -> tuple[Any, ...]:
    """A page's keyset position in the order `order_by` (what the next page token carries)."""
    column_name, _ = ORDERS[order_by]
    value = _to_row(company)[column_name]
    return (value.isoformat() if isinstance(value, datetime) else value, company.id)


class CompanyRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, company_id: str, lock: bool = False) -> Company | None:
        query = select(companies).where(companies.c.id == company_id)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _to_company(row) if row else None

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

    def title(self, company_id: str) -> str | None:
        query = select(companies.c.display_name).where(
            companies.c.id == company_id, companies.c.state != CompanyState.DELETED.value
        )
        return self._connection.execute(query).scalar()

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
        if q.query.strip():
            for word in q.query.lower().split()[:8]:
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
        if q.member_subject is not None:
            m = page_tables.members
            query = query.where(exists().where(m.c.page_id == companies.c.id, m.c.subject == q.member_subject))
        return query

    def search(self, q: DirectoryQuery, page: ListWindow) -> list[Company]:
        """A page of the directory in `q.order_by` order, `page.size + 1` rows at most (keyset on (key, id))."""
        column_name, descending = ORDERS[q.order_by]
        key = companies.c[column_name]
        query = self._filtered(q, [companies])
        if page.after:
            after_key: Any = page.after[0]
            if column_name in ("created_at", "updated_at"):
                after_key = datetime.fromisoformat(str(after_key))
            after_id = str(page.after[1])
            if descending:
                query = query.where(or_(key < after_key, and_(key == after_key, companies.c.id < after_id)))
            else:
                query = query.where(or_(key > after_key, and_(key == after_key, companies.c.id > after_id)))
        order = (key.desc(), companies.c.id.desc()) if descending else (key.asc(), companies.c.id.asc())
        rows = self._connection.execute(query.order_by(*order).limit(page.size + 1)).mappings()
        return [_to_company(row) for row in rows]

    def count(self, q: DirectoryQuery) -> int:
        """Matching pages, counted up to TOTAL_SIZE_CAP + 1 (an estimate above the cap)."""
        inner = self._filtered(q, [companies.c.id]).limit(TOTAL_SIZE_CAP + 1).subquery()
        return int(self._connection.execute(select(func.count()).select_from(inner)).scalar_one())

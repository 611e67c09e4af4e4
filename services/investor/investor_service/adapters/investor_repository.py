"""Investor pages in PostgreSQL/SQLite: row <-> domain mapping, filter tags, keyset windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, delete, exists, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from devinsider_common.pages.model import DirectoryWindow, PageForViewer
from devinsider_common.pages.repositories import for_viewer, read_directory, viewer_columns
from devinsider_common.pagination import ListWindow
from investor_service.adapters.tables import PAGE_TABLES, PAGE_UNLOCKS, TAG_KINDS, investor_tags, investors
from investor_service.domain.enums import InvestorState
from investor_service.domain.model import Contact, Investor, Money, Profile
from investor_service.domain.query import InvestorQuery, Order

COUNT_CAP = 10_000  # above this, total_size is an estimate (the cap)


def _money(currency: str, amount: int | None) -> Money | None:
    return None if amount is None else Money(currency, amount)


def _to_investor(row: RowMapping) -> Investor:
    profile = Profile(
        display_name=row["display_name"],
        category=row["category"],
        investor_type=row["investor_type"],
        tagline=row["tagline"],
        description=row["description"],
        website_url=row["website_url"],
        logo_url=row["logo_url"],
        hq_country_code=row["hq_country_code"],
        ticket_min=_money(row["ticket_currency"], row["ticket_min_minor"]),
        ticket_max=_money(row["ticket_currency"], row["ticket_max_minor"]),
        funding_stages=tuple(row["funding_stages"]),
        industries=tuple(row["industries"]),
        solution_categories=tuple(row["solution_categories"]),
        regions=tuple(row["regions"]),
        country_codes=tuple(row["country_codes"]),
        portfolio=tuple(row["portfolio"]),
        contact=Contact(
            email=row["contact_email"],
            phone_number=row["contact_phone_number"],
            contact_name=row["contact_name"],
            linkedin_url=row["contact_linkedin_url"],
        ),
    )
    return Investor(
        id=row["id"],
        profile=profile,
        creator=row["creator"],
        state=InvestorState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
        request_id=row["request_id"] or "",
        orphaned_at=row["orphaned_at"],
    )


def _to_row(investor: Investor) -> dict[str, Any]:
    p = investor.profile
    ticket = p.ticket_min or p.ticket_max
    return {
        "id": investor.id,
        "display_name": p.display_name,
        "sort_name": p.display_name.lower(),
        "search_text": "\n".join((p.display_name, p.tagline, p.description)).lower(),
        "category": int(p.category),
        "investor_type": int(p.investor_type),
        "tagline": p.tagline,
        "description": p.description,
        "website_url": p.website_url,
        "logo_url": p.logo_url,
        "hq_country_code": p.hq_country_code,
        "ticket_currency": ticket.currency_code if ticket else "",
        "ticket_min_minor": p.ticket_min.amount_minor if p.ticket_min else None,
        "ticket_max_minor": p.ticket_max.amount_minor if p.ticket_max else None,
        "funding_stages": list(p.funding_stages),
        "industries": list(p.industries),
        "solution_categories": list(p.solution_categories),
        "regions": list(p.regions),
        "country_codes": list(p.country_codes),
        "portfolio": list(p.portfolio),
        "contact_email": p.contact.email,
        "contact_phone_number": p.contact.phone_number,
        "contact_name": p.contact.contact_name,
        "contact_linkedin_url": p.contact.linkedin_url,
        "state": int(investor.state),
        "creator": investor.creator,
        "request_id": investor.request_id or None,
        "created_at": investor.created_at,
        "updated_at": investor.updated_at,
        "deleted_at": investor.deleted_at,
        "orphaned_at": investor.orphaned_at,
    }


def _any_tag(kind: str, values: Sequence[str]) -> ColumnElement[bool]:
    t = investor_tags
    return exists().where(t.c.investor_id == investors.c.id, t.c.kind == kind, t.c.value.in_(list(values)))


def _filters(query: InvestorQuery) -> list[ColumnElement[bool]]:
    i = investors.c
    where: list[ColumnElement[bool]] = [i.state.in_([int(s) for s in query.states])]
    if query.text:
        where.append(i.search_text.contains(query.text, autoescape=True))
    if query.categories:
        where.append(i.category.in_([int(c) for c in query.categories]))
    if query.investor_types:
        where.append(i.investor_type.in_([int(t) for t in query.investor_types]))
    for kind in TAG_KINDS:
        values: tuple[str, ...] = getattr(query, kind)
        if values:
            where.append(_any_tag(kind, values))
    if query.currency_code:
        amount = query.ticket_amount_minor
        where.append(i.ticket_currency == query.currency_code)
        where.append(or_(i.ticket_min_minor.is_(None), i.ticket_min_minor <= amount))
        where.append(or_(i.ticket_max_minor.is_(None), i.ticket_max_minor >= amount))
    if query.orphaned:
        where.append(i.orphaned_at.is_not(None))
    if query.member_subject:
        m = PAGE_TABLES.members.c
        where.append(exists().where(m.page_id == i.id, m.subject == query.member_subject))
    return where


def _keyset(order: Order, after: tuple[Any, ...]) -> ColumnElement[bool]:
    i = investors.c
    if order is Order.DISPLAY_NAME:
        name, last_id = str(after[0]), str(after[1])
        return or_(i.sort_name > name, and_(i.sort_name == name, i.id > last_id))
    if order is Order.UPDATE_TIME_DESC:
        when, last_id = datetime.fromisoformat(str(after[0])), str(after[1])
        return or_(i.updated_at < when, and_(i.updated_at == when, i.id < last_id))
    return i.id < str(after[0])


_ORDERS = {
    Order.DISPLAY_NAME: (investors.c.sort_name, investors.c.id),
    Order.CREATE_TIME_DESC: (investors.c.id.desc(),),  # ids are UUIDv7: creation order
    Order.UPDATE_TIME_DESC: (investors.c.updated_at.desc(), investors.c.id.desc()),
}


class InvestorRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, investor_id: str, lock: bool = False) -> Investor | None:
        query = select(investors).where(investors.c.id == investor_id)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _to_investor(row) if row else None

    def get_for_viewer(self, investor_id: str, subject: str | None) -> PageForViewer[Investor] | None:
        viewer = viewer_columns(investors.c.id, subject, PAGE_TABLES, PAGE_UNLOCKS)
        query = select(investors, *viewer).where(investors.c.id == investor_id)
        row = self._connection.execute(query).mappings().first()
        return for_viewer(row, _to_investor(row)) if row else None

    def get_many(self, ids: Sequence[str]) -> dict[str, Investor]:
        if not ids:
            return {}
        rows = self._connection.execute(select(investors).where(investors.c.id.in_(list(set(ids))))).mappings()
        return {row["id"]: _to_investor(row) for row in rows}

    def find_by_request(self, creator: str, request_id: str) -> Investor | None:
        query = select(investors).where(investors.c.creator == creator, investors.c.request_id == request_id)
        row = self._connection.execute(query).mappings().first()
        return _to_investor(row) if row else None

    @staticmethod
    def title_query(investor_id: str) -> Select[tuple[str]]:
        """The display name of a live page."""
        return select(investors.c.display_name).where(
            investors.c.id == investor_id, investors.c.state == int(InvestorState.ACTIVE)
        )

    def title(self, investor_id: str) -> str | None:
        """The display name of a live page; None when unknown or deleted."""
        return self._connection.execute(self.title_query(investor_id)).scalar()

    def titles(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        query = select(investors.c.id, investors.c.display_name).where(investors.c.id.in_(list(set(ids))))
        return {row.id: row.display_name for row in self._connection.execute(query)}

    def add(self, investor: Investor) -> None:
        self._connection.execute(insert(investors).values(**_to_row(investor)))
        self._write_tags(investor)

    def save(self, investor: Investor) -> None:
        row = _to_row(investor)
        self._connection.execute(update(investors).where(investors.c.id == investor.id).values(**row))
        self._connection.execute(delete(investor_tags).where(investor_tags.c.investor_id == investor.id))
        self._write_tags(investor)

    def _write_tags(self, investor: Investor) -> None:
        rows = [
            {"investor_id": investor.id, "kind": kind, "value": value}
            for kind in TAG_KINDS
            for value in getattr(investor.profile, kind)
        ]
        if rows:
            self._connection.execute(insert(investor_tags), rows)

    def list_after(self, query: InvestorQuery, window: ListWindow, viewer: str | None) -> DirectoryWindow[Investor]:
        """`window.size + 1` investors at most, in the query's order, after the window's position, with the
        viewer's role on each and the matches counted up to COUNT_CAP: one statement (`read_directory`)."""
        statement = select(investors).where(*_filters(query)).order_by(*_ORDERS[query.order]).limit(window.size + 1)
        if window.after:
            statement = statement.where(_keyset(query.order, window.after))
        matching = select(investors.c.id).where(*_filters(query)).limit(COUNT_CAP)
        return read_directory(self._connection, statement, matching, investors.c.id, viewer, PAGE_TABLES, _to_investor)

"""Criteria profiles, the page statuses fetched from the owning services, and the change log
that keeps every replica's index in step."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, text, update

from devinsider_common.pages.names import PageKind, parse_page
from matching_service.adapters.tables import change_log, page_statuses, profiles
from matching_service.domain.facts import PageFacts
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import Criteria, CriteriaProfile, FundingNeed, Money, TicketRange
from matching_service.domain.taxonomy import Dimension, dimension_by_key

# pg_advisory_xact_lock key of the change log, namespaced for this service.
CHANGE_LOG_LOCK = zlib.crc32(b"matching.change_log")


def _money(value: dict[str, Any] | None) -> Money | None:
    return Money(value["currency"], int(value["amount"])) if value else None


def _money_json(value: Money | None) -> dict[str, Any] | None:
    return {"currency": value.currency_code, "amount": value.amount_minor} if value else None


def _need_json(need: FundingNeed | None) -> dict[str, Any] | None:
    return {"looking": need.looking_for_funding, "amount": _money_json(need.amount)} if need else None


def _need(value: dict[str, Any] | None) -> FundingNeed | None:
    return FundingNeed(bool(value["looking"]), _money(value["amount"])) if value else None


def encode_profile(profile: CriteriaProfile) -> dict[str, str]:
    crit = {d.key: {"codes": list(c.codes), "required": c.required} for d, c in sorted(profile.criteria.items())}
    ticket = profile.ticket_range
    return {
        "criteria": json.dumps(crit),
        "funding_need": json.dumps(_need_json(profile.funding_need)),
        "ticket_range": json.dumps(
            {"min": _money_json(ticket.min), "max": _money_json(ticket.max), "required": ticket.required}
            if ticket
            else None
        ),
    }


def decode_profile(row: RowMapping) -> CriteriaProfile:
    kind = PageKind(row["kind"])
    crit: dict[Dimension, Criteria] = {}
    for key, value in json.loads(row["criteria"]).items():
        dimension = dimension_by_key(key)
        if dimension is not None:
            crit[dimension] = Criteria(tuple(value["codes"]), bool(value["required"]))
    ticket_json = json.loads(row["ticket_range"])
    ticket = None
    if ticket_json:
        ticket = TicketRange(_money(ticket_json["min"]), _money(ticket_json["max"]), bool(ticket_json["required"]))
    return CriteriaProfile(
        parse_page(row["page"], "page", (kind,)),
        crit,
        _need(json.loads(row["funding_need"])),
        ticket,
        row["taxonomy_version"],
        row["updated_at"],
    )


def encode_facts(facts: PageFacts | None) -> str | None:
    if facts is None:
        return None
    return json.dumps(
        {
            "codes": {d.key: list(c) for d, c in sorted(facts.codes.items())},
            "funding_need": _need_json(facts.funding_need),
            "ticket_min": _money_json(facts.ticket_min),
            "ticket_max": _money_json(facts.ticket_max),
        }
    )


def decode_facts(text: str | None) -> PageFacts | None:
    if text is None:
        return None
    value = json.loads(text)
    by_key = ((dimension_by_key(key), codes) for key, codes in value["codes"].items())
    return PageFacts(
        {d: tuple(codes) for d, codes in by_key if d is not None},
        _need(value["funding_need"]),
        _money(value["ticket_min"]),
        _money(value["ticket_max"]),
    )


def _status(row: RowMapping) -> PageStatus:
    values = dict(row)
    values.pop("fetched_at")
    values.pop("as_of")
    kind = PageKind(values.pop("kind"))
    facts = decode_facts(values.pop("facts"))
    return PageStatus(page=parse_page(values.pop("page"), "page", (kind,)), facts=facts, **values)


class ProfileRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, page: str) -> CriteriaProfile | None:
        row = self._connection.execute(select(profiles).where(profiles.c.page == page)).mappings().first()
        return decode_profile(row) if row else None

    def get_many(self, pages: Iterable[str]) -> dict[str, CriteriaProfile]:
        names = list(pages)
        rows = self._connection.execute(select(profiles).where(profiles.c.page.in_(names))).mappings()
        return {row["page"]: decode_profile(row) for row in rows}

    def all(self) -> Iterable[CriteriaProfile]:
        for row in self._connection.execute(select(profiles)).mappings():
            yield decode_profile(row)

    def save(self, profile: CriteriaProfile, exists: bool) -> None:
        values = encode_profile(profile) | {
            "kind": int(profile.page.kind),
            "taxonomy_version": profile.taxonomy_version,
            "updated_at": profile.updated_at,
        }
        if exists:
            self._connection.execute(update(profiles).where(profiles.c.page == profile.page.name).values(**values))
        else:
            self._connection.execute(insert(profiles).values(page=profile.page.name, **values))


class PageStatusRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_many(self, pages: Iterable[str]) -> dict[str, PageStatus]:
        rows = self._connection.execute(select(page_statuses).where(page_statuses.c.page.in_(list(pages)))).mappings()
        return {row["page"]: _status(row) for row in rows}

    def all(self) -> Iterable[PageStatus]:
        for row in self._connection.execute(select(page_statuses)).mappings():
            yield _status(row)

    def save(self, status: PageStatus, as_of: datetime, at: datetime) -> bool:
        """Store the status unless the stored one holds as of a later time; True when it changed what
        matching decides on (gates, summaries, the page's facts). The row is locked first, so concurrent
        writers of one page (the poll, the event consumer, a profile update) apply in turn."""
        row = (
            self._connection.execute(
                select(page_statuses).where(page_statuses.c.page == status.page.name).with_for_update()
            )
            .mappings()
            .first()
        )
        if row is not None and row["as_of"] is not None and _utc(row["as_of"]) > _utc(as_of):
            return False  # a newer status is stored: this one arrived late
        if row is not None and _status(row) == status:
            statement = update(page_statuses).where(page_statuses.c.page == status.page.name)
            self._connection.execute(statement.values(as_of=as_of))
            return False
        values = {
            "kind": int(status.page.kind),
            "active": status.active,
            "program_complete": status.program_complete,
            "investor_complete": status.investor_complete,
            "vendor_company": status.vendor_company,
            "display_name": status.display_name[:200],
            "logo_url": status.logo_url[:2048],
            "tagline": status.tagline[:300],
            "country_code": status.country_code[:2],
            "facts": encode_facts(status.facts),
            "fetched_at": at,
            "as_of": as_of,
        }
        self._connection.execute(delete(page_statuses).where(page_statuses.c.page == status.page.name))
        self._connection.execute(insert(page_statuses).values(page=status.page.name, **values))
        return True


def _utc(moment: datetime) -> datetime:
    """SQLite gives a stored UTC time back without its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ChangeLog:
    """A monotonically increasing log of changed pages. Writers serialise on a transaction-scoped
    advisory lock taken before the insert, so sequence numbers commit in order and a reader
    polling `seq > last` never skips a row that commits late (SQLite has one writer anyway)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, pages: Iterable[str], at: datetime) -> None:
        names = sorted(set(pages))
        if not names:
            return
        if self._connection.dialect.name == "postgresql":
            self._connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK})
        self._connection.execute(insert(change_log), [{"page": name, "changed_at": at} for name in names])

    def last_seq(self) -> int:
        return int(self._connection.execute(select(func.max(change_log.c.seq))).scalar_one() or 0)

    def since(self, seq: int, limit: int = 5000) -> list[tuple[int, str]]:
        rows = self._connection.execute(
            select(change_log.c.seq, change_log.c.page)
            .where(change_log.c.seq > seq)
            .order_by(change_log.c.seq)
            .limit(limit)
        )
        return [(int(s), str(p)) for s, p in rows]

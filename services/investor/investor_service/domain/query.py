"""A search of the investor directory: filters, order and keyset positions, validated. No I/O."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from devinsider_common import errors, validation
from devinsider_common.errors import Violations
from investor_service.domain.enums import InvestorCategory, InvestorState, InvestorType
from investor_service.domain.model import Investor, InvestorView

_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_FILTER_VALUES = 50


class Order(enum.StrEnum):
    DISPLAY_NAME = "display_name"
    CREATE_TIME_DESC = "create_time desc"
    UPDATE_TIME_DESC = "update_time desc"


def parse_order(order_by: str) -> Order | None:
    """The order named by `order_by` (empty: by display name), None when unknown."""
    text = " ".join(order_by.split()).lower()
    if not text or text == "display_name asc":
        return Order.DISPLAY_NAME
    return next((order for order in Order if order.value == text), None)


@dataclass(frozen=True)
class InvestorQuery:
    text: str = ""
    categories: tuple[InvestorCategory, ...] = ()
    investor_types: tuple[InvestorType, ...] = ()
    funding_stages: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    country_codes: tuple[str, ...] = ()
    ticket_amount_minor: int = 0
    currency_code: str = ""
    states: tuple[InvestorState, ...] = (InvestorState.ACTIVE,)
    member_subject: str = ""  # only pages this subject is a member of
    order: Order = Order.DISPLAY_NAME
    orphaned: bool = False  # only the pages marked orphaned (staff)

    def criteria(self) -> list[str]:
        """The criteria filters the query uses, as the request names them: what `directory_filters` sells."""
        fields = (
            "categories",
            "investor_types",
            "funding_stages",
            "industries",
            "country_codes",
            "ticket_amount_minor",
        )
        return [name for name in fields if getattr(self, name)]

    def fingerprint(self) -> dict[str, object]:
        """What a page token is bound to: every filter and the order."""
        return {k: str(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class InvestorList:
    """One window of the directory: its pages as the caller sees them, the next page token, the total."""

    investors: list[InvestorView]
    next_page_token: str
    total_size: int


def build_query(
    *,
    text: str,
    categories: Iterable[InvestorCategory],
    investor_types: Iterable[InvestorType],
    funding_stages: list[str],
    industries: list[str],
    country_codes: list[str],
    ticket_amount_minor: int,
    currency_code: str,
    states: Iterable[InvestorState],
    order_by: str,
    orphaned: bool = False,
    checks: Violations | None = None,
) -> InvestorQuery:
    """Validate a ListInvestors request's filters; every bad field is reported at once, with those already
    in `checks` (the request's enum values, parsed by the servicer)."""
    checks = checks or Violations()
    validation.text(checks, "query", text, max_len=200)
    stages = tuple(dict.fromkeys(s.strip().lower() for s in funding_stages))
    sectors = tuple(dict.fromkeys(s.strip().lower() for s in industries))
    for path, codes in (("funding_stages", stages), ("industries", sectors)):
        checks.check(len(codes) <= MAX_FILTER_VALUES, path, f"must have at most {MAX_FILTER_VALUES} values")
        for index, code in enumerate(codes):
            checks.check(bool(_CODE.match(code)), f"{path}[{index}]", "must be a taxonomy code")
    countries = tuple(dict.fromkeys(c.strip().upper() for c in country_codes))
    checks.check(len(countries) <= MAX_FILTER_VALUES, "country_codes", f"must have at most {MAX_FILTER_VALUES} values")
    for index, code in enumerate(countries):
        checks.check(bool(code), f"country_codes[{index}]", "must not be empty")
        validation.country_code(checks, f"country_codes[{index}]", code)
    currency = currency_code.strip().upper()
    checks.check(ticket_amount_minor >= 0, "ticket_amount_minor", "must not be negative")
    if ticket_amount_minor or currency:
        checks.check(
            bool(_CURRENCY.match(currency)), "currency_code", "must be an ISO 4217 code with ticket_amount_minor"
        )
    order = parse_order(order_by)
    choices = ", ".join(f"`{o.value}`" for o in Order)
    checks.check(order is not None, "order_by", f"must be one of {choices}")
    checks.raise_if_any("invalid filters")
    return InvestorQuery(
        text=" ".join(text.split()).lower(),
        categories=tuple(sorted(set(categories))),
        investor_types=tuple(sorted(set(investor_types))),
        funding_stages=stages,
        industries=sectors,
        country_codes=countries,
        ticket_amount_minor=ticket_amount_minor,
        currency_code=currency,
        states=tuple(sorted(set(states))) or (InvestorState.ACTIVE,),
        order=order or Order.DISPLAY_NAME,
        orphaned=orphaned,
    )


def position(investor: Investor, order: Order) -> tuple[Any, ...]:
    """The keyset position of an item in a list of `order` (what the next page token carries)."""
    if order is Order.DISPLAY_NAME:
        return (investor.profile.display_name.lower(), investor.id)
    if order is Order.UPDATE_TIME_DESC:
        assert investor.updated_at is not None
        return (investor.updated_at.isoformat(), investor.id)
    return (investor.id,)


def check_position(after: tuple[Any, ...] | None, order: Order) -> None:
    """A token's position must have the shape of its order (tokens are opaque, not trusted)."""
    if after is None:
        return
    expected = 1 if order is Order.CREATE_TIME_DESC else 2
    well_formed = len(after) == expected and all(isinstance(v, str) for v in after)
    if well_formed and order is Order.UPDATE_TIME_DESC:
        try:
            datetime.fromisoformat(after[0])
        except ValueError:
            well_formed = False
    if not well_formed:
        raise errors.InvalidArgument.for_field("page_token", "is not a token this API issued")

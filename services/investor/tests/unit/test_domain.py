"""Investor domain rules without I/O: validation, normalization, updates, directory queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from devinsider_common.testing.failures import failure
from investor_service.domain.enums import InvestorCategory, InvestorState, InvestorType
from investor_service.domain.model import Contact, Investor, InvestorView, Money, Profile
from investor_service.domain.query import Order, build_query, check_position, parse_order, position

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
GOOD = Profile(display_name="Northwind", category=1, investor_type=1)


def _fields(call: Callable[[], object]) -> list[str]:
    return sorted(failure(call).fields)


def _investor(profile: Profile = GOOD) -> Investor:
    return Investor("id-1", Investor.validate_new(profile), "kc-ada", created_at=NOW, updated_at=NOW)


def test_new_pages_are_normalized() -> None:
    profile = Investor.validate_new(
        Profile(
            display_name="  Northwind ",
            category=2,
            investor_type=2,
            hq_country_code="fr",
            ticket_min=Money("eur", 100),
            funding_stages=("Seed", "seed", " SERIES_A "),
            country_codes=("fr", "FR", "de"),
            portfolio=("Acme", "Acme"),
            contact=Contact(email="Deals@X.Example"),
        )
    )
    assert profile.display_name == "Northwind" and profile.hq_country_code == "FR"
    assert profile.ticket_min == Money("EUR", 100)
    assert profile.funding_stages == ("seed", "series_a") and profile.country_codes == ("FR", "DE")
    assert profile.portfolio == ("Acme",) and profile.contact.email == "deals@x.example"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (Profile(), ["investor.category", "investor.display_name", "investor.investor_type"]),
        (Profile(display_name="x" * 121, category=3, investor_type=9), [
            "investor.category", "investor.display_name", "investor.investor_type"
        ]),
        (Profile(display_name="N", category=1, investor_type=1, tagline="t" * 161), ["investor.tagline"]),
        (Profile(display_name="N", category=1, investor_type=1, website_url="http://x.example"), [
            "investor.website_url"
        ]),
        (Profile(display_name="N", category=1, investor_type=1, regions=("EMEA!",)), ["investor.regions[0]"]),
        (Profile(display_name="N", category=1, investor_type=1, portfolio=("",)), ["investor.portfolio[0]"]),
        (Profile(display_name="N", category=1, investor_type=1, industries=tuple(f"i{n}" for n in range(51))), [
            "investor.industries"
        ]),
        (Profile(display_name="N", category=1, investor_type=1, contact=Contact(linkedin_url="javascript:x")), [
            "investor.contact.linkedin_url"
        ]),
    ],
)  # fmt: skip
def test_validation_names_each_bad_field(changes: Profile, fields: list[str]) -> None:
    assert _fields(lambda: Investor.validate_new(changes)) == fields


@pytest.mark.parametrize(
    ("low", "high", "fields"),
    [
        (Money("EUR", 5), Money("EUR", 5), []),
        (Money("EUR", 6), Money("EUR", 5), ["investor.ticket_max"]),
        (Money("EUR", 1), Money("USD", 5), ["investor.ticket_max.currency_code"]),
        (Money("EU", 1), Money("USD", -5), ["investor.ticket_max.amount_minor", "investor.ticket_min.currency_code"]),
        (None, Money("EUR", 5), []),
    ],
)
def test_ticket_range(low: Money | None, high: Money | None, fields: list[str]) -> None:
    profile = Profile(display_name="N", category=1, investor_type=1, ticket_min=low, ticket_max=high)
    if not fields:
        assert Investor.validate_new(profile).ticket_max == high
        return
    assert _fields(lambda: Investor.validate_new(profile)) == fields


def test_with_changes_copies_only_the_paths_and_lists_what_changed() -> None:
    investor = _investor(Profile(display_name="N", category=1, investor_type=1, contact=Contact(email="a@x.io")))
    changes = Profile(
        display_name="New", tagline="ignored", contact=Contact(phone_number="+33612345678", email="b@x.io")
    )
    updated, changed = investor.with_changes(changes, frozenset({"display_name", "contact.phone_number"}), NOW)
    assert changed == ["display_name", "contact.phone_number"]
    assert (updated.profile.display_name, updated.profile.tagline) == ("New", "")
    assert updated.profile.contact == Contact(email="a@x.io", phone_number="+33612345678")
    replaced, changed = investor.with_changes(changes, frozenset({"contact"}), NOW)
    assert replaced.profile.contact.email == "b@x.io" and "contact.email" in changed
    same, nothing = investor.with_changes(Profile(display_name="N"), frozenset({"display_name"}), NOW)
    assert same is investor and nothing == []


def test_changing_one_end_of_the_ticket_checks_the_range() -> None:
    investor = _investor(Profile(display_name="N", category=1, investor_type=1, ticket_min=Money("EUR", 100)))
    changes = Profile(ticket_max=Money("EUR", 99))
    assert _fields(lambda: investor.with_changes(changes, frozenset({"ticket_max"}), NOW)) == ["investor.ticket_max"]
    cleared, _ = investor.with_changes(Profile(), frozenset({"ticket_min"}), NOW)
    assert cleared.profile.ticket_min is None


def test_deletion_is_soft() -> None:
    deleted = _investor().deleted(NOW)
    assert deleted.state is InvestorState.DELETED and deleted.is_deleted and deleted.deleted_at == NOW


def _query(**overrides: object) -> Any:
    values: dict[str, object] = {
        "text": "",
        "categories": [],
        "investor_types": [],
        "funding_stages": [],
        "industries": [],
        "country_codes": [],
        "ticket_amount_minor": 0,
        "currency_code": "",
        "states": [],
        "order_by": "",
    }
    values.update(overrides)
    return values


def test_queries_are_normalized_and_default_to_active_pages() -> None:
    query = build_query(
        **_query(
            text="  Seed   FUNDS ",
            categories=[InvestorCategory(2), InvestorCategory(1), InvestorCategory(2)],
            country_codes=["fr"],
            currency_code="eur",
        )
    )
    assert query.text == "seed funds" and query.categories == (
        InvestorCategory.INSTITUTIONAL,
        InvestorCategory.INDIVIDUAL,
    )
    assert query.country_codes == ("FR",) and query.currency_code == "EUR"
    assert query.states == (InvestorState.ACTIVE,) and query.order is Order.DISPLAY_NAME
    assert build_query(**_query(investor_types=[InvestorType(8)])).investor_types == (InvestorType.CROWDFUNDING,)


def test_order_by_accepts_the_documented_orders_only() -> None:
    assert parse_order("") is Order.DISPLAY_NAME and parse_order("display_name asc") is Order.DISPLAY_NAME
    assert parse_order(" CREATE_TIME   desc") is Order.CREATE_TIME_DESC
    assert parse_order("update_time desc") is Order.UPDATE_TIME_DESC
    assert parse_order("update_time") is None and parse_order("name") is None


def test_query_fingerprints_differ_by_filter_and_order() -> None:
    base = build_query(**_query())
    assert base.fingerprint() != build_query(**_query(order_by="create_time desc")).fingerprint()
    assert base.fingerprint() != build_query(**_query(industries=["fintech"])).fingerprint()


def test_keyset_positions_follow_the_order() -> None:
    investor = _investor(Profile(display_name="North Wind", category=1, investor_type=1))
    assert position(investor, Order.DISPLAY_NAME) == ("north wind", "id-1")
    assert position(investor, Order.CREATE_TIME_DESC) == ("id-1",)
    assert position(investor, Order.UPDATE_TIME_DESC) == (NOW.isoformat(), "id-1")
    for order in Order:
        check_position(position(investor, order), order)  # what a token carries is accepted back
        check_position(None, order)  # the first window


@pytest.mark.parametrize(
    ("after", "order"),
    [
        (("a",), Order.DISPLAY_NAME),  # too short
        (("a", "b"), Order.CREATE_TIME_DESC),  # too long
        (("a", 1), Order.DISPLAY_NAME),  # not text
        (("yesterday", "id"), Order.UPDATE_TIME_DESC),  # not a time
    ],
)
def test_a_position_of_another_shape_is_not_a_token_this_api_issued(after: tuple[object, ...], order: Order) -> None:
    assert failure(lambda: check_position(after, order)).fields == ["page_token"]


def test_a_view_is_public_unless_told() -> None:
    investor = _investor()
    assert (InvestorView(investor).full, InvestorView(investor).role) == (False, None)

"""Validation of an investor page's fields (adds to a Violations collector; no I/O)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from devinsider_common import validation
from devinsider_common.errors import Violations
from investor_service.domain.enums import InvestorCategory, InvestorType

if TYPE_CHECKING:
    from investor_service.domain.model import Money, Profile

_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_LIST_ITEMS = 50
MAX_PORTFOLIO_ITEMS = 100
MAX_AMOUNT_MINOR = 10**15  # a quadrillion cents: far above any ticket, far below int64


def _codes(checks: Violations, path: str, values: tuple[str, ...]) -> None:
    checks.check(len(values) <= MAX_LIST_ITEMS, path, f"must have at most {MAX_LIST_ITEMS} items")
    for index, value in enumerate(values):
        checks.check(bool(_CODE.match(value)), f"{path}[{index}]", "must be a taxonomy code (a-z, 0-9, `_.-`)")


def _countries(checks: Violations, path: str, values: tuple[str, ...]) -> None:
    checks.check(len(values) <= MAX_LIST_ITEMS, path, f"must have at most {MAX_LIST_ITEMS} items")
    for index, value in enumerate(values):
        checks.check(bool(value), f"{path}[{index}]", "must not be empty")
        validation.country_code(checks, f"{path}[{index}]", value)


def _https(checks: Violations, path: str, value: str) -> None:
    found = Violations()
    validation.https_url(found, path, value)
    if found.items:
        checks.items.extend(found.items)
    else:
        checks.check(not value or value.startswith("https://"), path, "must be an https URL")


def _money(checks: Violations, path: str, value: Money | None) -> bool:
    if value is None:
        return True
    good = True
    if not _CURRENCY.match(value.currency_code):
        checks.add(f"{path}.currency_code", "must be an ISO 4217 code, e.g. EUR")
        good = False
    if not 0 <= value.amount_minor <= MAX_AMOUNT_MINOR:
        checks.add(f"{path}.amount_minor", f"must be between 0 and {MAX_AMOUNT_MINOR}")
        good = False
    return good


def validate_ticket(checks: Violations, prefix: str, low: Money | None, high: Money | None) -> None:
    """Each end well-formed; together in one currency and min <= max."""
    both_good = _money(checks, f"{prefix}.ticket_min", low) & _money(checks, f"{prefix}.ticket_max", high)
    if low is None or high is None or not both_good:
        return
    if low.currency_code != high.currency_code:
        checks.add(f"{prefix}.ticket_max.currency_code", "must be the currency of ticket_min")
    elif low.amount_minor > high.amount_minor:
        checks.add(f"{prefix}.ticket_max", "must not be below ticket_min")


def validate_profile(checks: Violations, profile: Profile, paths: frozenset[str], prefix: str) -> None:
    """Check the fields named in `paths` (a normalized profile); the ticket range as a whole."""

    def wants(name: str) -> bool:
        return name in paths

    if wants("display_name"):
        validation.text(checks, f"{prefix}.display_name", profile.display_name, max_len=120, required=True)
    if wants("category"):
        checks.check(profile.category in InvestorCategory._value2member_map_, f"{prefix}.category", "is required")
    if wants("investor_type"):
        known = profile.investor_type in InvestorType._value2member_map_
        checks.check(known, f"{prefix}.investor_type", "is required")
    if wants("tagline"):
        validation.text(checks, f"{prefix}.tagline", profile.tagline, max_len=160)
    if wants("description"):
        validation.text(checks, f"{prefix}.description", profile.description, max_len=5000)
    for name in ("website_url", "logo_url"):
        if wants(name):
            _https(checks, f"{prefix}.{name}", getattr(profile, name))
    if wants("hq_country_code"):
        validation.country_code(checks, f"{prefix}.hq_country_code", profile.hq_country_code)
    if wants("ticket_min") or wants("ticket_max"):
        validate_ticket(checks, prefix, profile.ticket_min, profile.ticket_max)
    for name in ("funding_stages", "industries", "solution_categories", "regions"):
        if wants(name):
            _codes(checks, f"{prefix}.{name}", getattr(profile, name))
    if wants("country_codes"):
        _countries(checks, f"{prefix}.country_codes", profile.country_codes)
    if wants("portfolio"):
        count_ok = len(profile.portfolio) <= MAX_PORTFOLIO_ITEMS
        checks.check(count_ok, f"{prefix}.portfolio", f"must have at most {MAX_PORTFOLIO_ITEMS} items")
        for index, item in enumerate(profile.portfolio):
            validation.text(checks, f"{prefix}.portfolio[{index}]", item, max_len=120, required=True)
    contact = profile.contact
    if wants("contact") or wants("contact.email"):
        validation.email(checks, f"{prefix}.contact.email", contact.email)
    if wants("contact") or wants("contact.phone_number"):
        validation.phone_number(checks, f"{prefix}.contact.phone_number", contact.phone_number)
    if wants("contact") or wants("contact.contact_name"):
        validation.text(checks, f"{prefix}.contact.contact_name", contact.contact_name, max_len=120)
    if wants("contact") or wants("contact.linkedin_url"):
        _https(checks, f"{prefix}.contact.linkedin_url", contact.linkedin_url)

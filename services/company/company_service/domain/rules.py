"""Rules on company pages: field validation, completeness for matchmaking, edits. No I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from company_service.domain.content import (
    CompanyContent,
    DistributionChannel,
    LicensingModel,
    Money,
    apply_paths,
    read_path,
)
from company_service.domain.model import Company
from devinsider_common import validation
from devinsider_common.errors import Violations

MIN_FOUNDING_YEAR = 1800
MAX_LIST_ITEMS = 50
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _codes(checks: Violations, path: str, values: Sequence[str], known: validation.CodeCheck | None = None) -> None:
    """Taxonomy codes: no duplicates, at most MAX_LIST_ITEMS, each one `known`, else a lower-case slug."""
    checks.check(len(values) <= MAX_LIST_ITEMS, path, f"must hold at most {MAX_LIST_ITEMS} items")
    checks.check(len(set(values)) == len(values), path, "must not repeat a value")
    for i, value in enumerate(values):
        if known is not None:
            known(checks, f"{path}[{i}]", value)
        else:
            checks.check(bool(_CODE.match(value)), f"{path}[{i}]", "must be a taxonomy code like `fintech`")


def _names(checks: Violations, path: str, values: Sequence[str]) -> None:
    checks.check(len(values) <= MAX_LIST_ITEMS, path, f"must hold at most {MAX_LIST_ITEMS} items")
    for i, value in enumerate(values):
        validation.text(checks, f"{path}[{i}]", value, max_len=100, required=True)


def _enums(checks: Violations, path: str, values: Sequence[LicensingModel | DistributionChannel]) -> None:
    checks.check(len(set(values)) == len(values), path, "must not repeat a value")
    checks.check(all(int(v) != 0 for v in values), path, "must not contain the unspecified value")


def _money(checks: Violations, path: str, money: Money) -> None:
    if not money.is_set:
        return
    checks.check(bool(_CURRENCY.match(money.currency_code)), f"{path}.currency_code", "must be an ISO 4217 code")
    checks.check(money.amount_minor >= 0, f"{path}.amount_minor", "must not be negative")


def _past_date(checks: Violations, path: str, value: date | None, today: date) -> None:
    if value is not None:
        checks.check(date(MIN_FOUNDING_YEAR, 1, 1) <= value <= today, path, "must be a past date")


def validate(content: CompanyContent, leaves: frozenset[str], today: date, checks: Violations | None = None) -> None:
    """Check the given leaf paths of `content`; every bad field is reported at once (paths under `company.`)."""
    checks = checks or Violations()

    def has(path: str) -> bool:
        return path in leaves

    p = "company."
    texts = {"display_name": 120, "legal_name": 200, "tagline": 160, "description": 5000}
    for name, limit in texts.items():
        if has(name):
            validation.text(checks, p + name, getattr(content, name), max_len=limit, required=name == "display_name")
    if has("website_url"):
        validation.https_url(checks, p + "website_url", content.website_url)
    if has("hq_country_code"):
        validation.country_code(checks, p + "hq_country_code", content.hq_country_code)
    if has("founding_year") and content.founding_year:
        checks.check(
            MIN_FOUNDING_YEAR <= content.founding_year <= today.year,
            p + "founding_year",
            f"must be between {MIN_FOUNDING_YEAR} and {today.year}",
        )
    if has("industries"):
        _codes(checks, p + "industries", content.industries, validation.industry_code)
    for name in ("solution_categories", "target_regions"):
        if has(name):
            _codes(checks, p + name, getattr(content, name))
    if has("target_country_codes"):
        codes = content.target_country_codes
        checks.check(len(set(codes)) == len(codes), p + "target_country_codes", "must not repeat a value")
        checks.check(len(codes) <= 250, p + "target_country_codes", "must hold at most 250 items")
        for i, code in enumerate(codes):
            checks.check(bool(code), f"{p}target_country_codes[{i}]", "must not be empty")
            validation.country_code(checks, f"{p}target_country_codes[{i}]", code)
    for name in ("licensing_models", "distribution_channels"):
        if has(name):
            _enums(checks, p + name, getattr(content, name))
    for name in ("technology_partners", "wanted_technology_partners"):
        if has(name):
            _names(checks, p + name, getattr(content, name))
    contact = content.contact
    if has("contact.email"):
        validation.email(checks, p + "contact.email", contact.email)
    if has("contact.phone_number"):
        validation.phone_number(checks, p + "contact.phone_number", contact.phone_number)
    if has("contact.postal_address"):
        validation.text(checks, p + "contact.postal_address", contact.postal_address, max_len=500)
    if has("contact.contact_name"):
        validation.text(checks, p + "contact.contact_name", contact.contact_name, max_len=200)
    if has("contact.linkedin_url"):
        validation.https_url(checks, p + "contact.linkedin_url", contact.linkedin_url)
    money = content.financials
    for name in ("funding_target", "total_raised"):
        if has(f"financials.{name}"):
            _money(checks, f"{p}financials.{name}", getattr(money, name))
    if has("financials.last_funding_date"):
        _past_date(checks, p + "financials.last_funding_date", money.last_funding_date, today)
    if has("financials.funding_rounds"):
        rounds = money.funding_rounds
        checks.check(len(rounds) <= MAX_LIST_ITEMS, p + "financials.funding_rounds", "must hold at most 50 rounds")
        for i, funding_round in enumerate(rounds):
            path = f"{p}financials.funding_rounds[{i}]"
            checks.check(bool(_CODE.match(funding_round.stage)), f"{path}.stage", "must be a stage code like `seed`")
            _money(checks, f"{path}.amount", funding_round.amount)
            _past_date(checks, f"{path}.close_date", funding_round.close_date, today)
    for name in ("pain_point", "differentiator", "team"):
        if has(f"pitch.{name}"):
            validation.text(checks, f"{p}pitch.{name}", getattr(content.pitch, name), max_len=2000)
    checks.raise_if_any("invalid company")


def edit(company: Company, changes: CompanyContent, leaves: frozenset[str], now: datetime) -> tuple[Company, list[str]]:
    """The page with `leaves` copied from `changes` (validated), and the paths that really changed."""
    validate(changes, leaves, now.date())
    content = apply_paths(company.content, changes, leaves)
    changed = sorted(p for p in leaves if read_path(company.content, p) != read_path(content, p))
    if not changed:
        return company, []
    return replace(company, content=content, updated_at=now), changed


@dataclass(frozen=True)
class Completeness:
    program_missing: tuple[str, ...]
    investor_missing: tuple[str, ...]

    @property
    def program_ready(self) -> bool:
        return not self.program_missing

    @property
    def investor_ready(self) -> bool:
        return not self.investor_missing


# What program matchmaking needs, then what investor matchmaking adds.
PROGRAM_REQUIREMENTS = (
    "display_name",
    "description",
    "website_url",
    "hq_country_code",
    "company_size",
    "industries",
    "solution_categories",
    "target_regions",
    "licensing_models",
    "distribution_channels",
)
INVESTOR_REQUIREMENTS = (
    "founding_year",
    "financials.looking_for_funding",
    "financials.revenue_range",
    "financials.funding_target",
    "pitch.pain_point",
    "pitch.differentiator",
    "pitch.team",
)


def _missing(content: CompanyContent, path: str) -> bool:
    if path == "target_regions":  # target markets: by region or by country
        return not (content.target_regions or content.target_country_codes)
    value = read_path(content, path)
    if isinstance(value, Money):
        return not value.is_set
    if isinstance(value, str):
        return not value.strip()
    return not value


def completeness(content: CompanyContent) -> Completeness:
    program = tuple(p for p in PROGRAM_REQUIREMENTS if _missing(content, p))
    investor = program + tuple(p for p in INVESTOR_REQUIREMENTS if _missing(content, p))
    return Completeness(program, investor)

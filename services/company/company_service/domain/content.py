"""What members edit on a company page (DevInsider's CRM fields), its update-mask paths, and its
stored form. No I/O.

Each value object has a typed `to_dict` and `from_dict`: the page's `profile` column holds
`content_to_json(content)`, keys in the fields' order, so rows written before these functions
existed load unchanged (tests/adapters/test_stored_content.py holds one such row). `from_dict`
takes a missing key as the field's default, as the rows written before the field existed.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, Self

Json = dict[str, Any]


class CompanySize(enum.IntEnum):
    """Values match devinsider.company.v1.CompanySize."""

    UNSPECIFIED = 0
    S_1_10 = 1
    S_11_50 = 2
    S_51_200 = 3
    S_201_500 = 4
    S_501_1000 = 5
    S_1001_PLUS = 6


class RevenueRange(enum.IntEnum):
    UNSPECIFIED = 0
    PRE_REVENUE = 1
    UNDER_1M = 2
    R_1M_5M = 3
    R_5M_20M = 4
    R_20M_50M = 5
    R_50M_PLUS = 6


class LicensingModel(enum.IntEnum):
    UNSPECIFIED = 0
    ON_PREMISE = 1
    SAAS = 2
    HYBRID = 3
    OEM = 4


class DistributionChannel(enum.IntEnum):
    UNSPECIFIED = 0
    DIRECT = 1
    DEALER_NETWORK = 2
    VAR = 3


def _date_to_json(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date_from_json(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _strings(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(v) for v in raw.get(key, ()))


@dataclass(frozen=True)
class Money:
    currency_code: str = ""
    amount_minor: int = 0

    @property
    def is_set(self) -> bool:
        return bool(self.currency_code) or self.amount_minor != 0

    def to_dict(self) -> Json:
        return {"currency_code": self.currency_code, "amount_minor": self.amount_minor}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        return cls(str(raw.get("currency_code", "")), int(raw.get("amount_minor", 0)))


@dataclass(frozen=True)
class FundingRound:
    stage: str = ""
    amount: Money = Money()
    close_date: date | None = None

    def to_dict(self) -> Json:
        return {"stage": self.stage, "amount": self.amount.to_dict(), "close_date": _date_to_json(self.close_date)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        return cls(str(raw["stage"]), Money.from_dict(raw.get("amount", {})), _date_from_json(raw.get("close_date")))


@dataclass(frozen=True)
class Contact:
    email: str = ""
    phone_number: str = ""
    postal_address: str = ""
    contact_name: str = ""
    linkedin_url: str = ""

    def to_dict(self) -> Json:
        return {
            "email": self.email,
            "phone_number": self.phone_number,
            "postal_address": self.postal_address,
            "contact_name": self.contact_name,
            "linkedin_url": self.linkedin_url,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        return cls(
            email=raw.get("email", ""),
            phone_number=raw.get("phone_number", ""),
            postal_address=raw.get("postal_address", ""),
            contact_name=raw.get("contact_name", ""),
            linkedin_url=raw.get("linkedin_url", ""),
        )


@dataclass(frozen=True)
class Financials:
    revenue_range: RevenueRange = RevenueRange.UNSPECIFIED
    looking_for_funding: bool = False
    funding_target: Money = Money()
    funding_rounds: tuple[FundingRound, ...] = ()
    last_funding_date: date | None = None
    total_raised: Money = Money()

    def to_dict(self) -> Json:
        return {
            "revenue_range": int(self.revenue_range),
            "looking_for_funding": self.looking_for_funding,
            "funding_target": self.funding_target.to_dict(),
            "funding_rounds": [r.to_dict() for r in self.funding_rounds],
            "last_funding_date": _date_to_json(self.last_funding_date),
            "total_raised": self.total_raised.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        return cls(
            revenue_range=RevenueRange(raw.get("revenue_range", 0)),
            looking_for_funding=bool(raw.get("looking_for_funding", False)),
            funding_target=Money.from_dict(raw.get("funding_target", {})),
            funding_rounds=tuple(FundingRound.from_dict(r) for r in raw.get("funding_rounds", ())),
            last_funding_date=_date_from_json(raw.get("last_funding_date")),
            total_raised=Money.from_dict(raw.get("total_raised", {})),
        )


@dataclass(frozen=True)
class Pitch:
    pain_point: str = ""
    differentiator: str = ""
    team: str = ""
    published: bool = False

    def to_dict(self) -> Json:
        return {
            "pain_point": self.pain_point,
            "differentiator": self.differentiator,
            "team": self.team,
            "published": self.published,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        return cls(
            pain_point=raw.get("pain_point", ""),
            differentiator=raw.get("differentiator", ""),
            team=raw.get("team", ""),
            published=bool(raw.get("published", False)),
        )


@dataclass(frozen=True)
class CompanyContent:
    """Everything members edit on a page (UpdateCompany's fields)."""

    display_name: str = ""
    legal_name: str = ""
    tagline: str = ""
    description: str = ""
    website_url: str = ""
    hq_country_code: str = ""
    founding_year: int = 0
    company_size: CompanySize = CompanySize.UNSPECIFIED
    industries: tuple[str, ...] = ()
    solution_categories: tuple[str, ...] = ()
    target_regions: tuple[str, ...] = ()
    target_country_codes: tuple[str, ...] = ()
    licensing_models: tuple[LicensingModel, ...] = ()
    distribution_channels: tuple[DistributionChannel, ...] = ()
    technology_partners: tuple[str, ...] = ()
    wanted_technology_partners: tuple[str, ...] = ()
    contact: Contact = Contact()
    financials: Financials = Financials()
    pitch: Pitch = Pitch()

    def to_dict(self) -> Json:
        return {
            "display_name": self.display_name,
            "legal_name": self.legal_name,
            "tagline": self.tagline,
            "description": self.description,
            "website_url": self.website_url,
            "hq_country_code": self.hq_country_code,
            "founding_year": self.founding_year,
            "company_size": int(self.company_size),
            "industries": list(self.industries),
            "solution_categories": list(self.solution_categories),
            "target_regions": list(self.target_regions),
            "target_country_codes": list(self.target_country_codes),
            "licensing_models": [int(v) for v in self.licensing_models],
            "distribution_channels": [int(v) for v in self.distribution_channels],
            "technology_partners": list(self.technology_partners),
            "wanted_technology_partners": list(self.wanted_technology_partners),
            "contact": self.contact.to_dict(),
            "financials": self.financials.to_dict(),
            "pitch": self.pitch.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        return cls(
            display_name=raw.get("display_name", ""),
            legal_name=raw.get("legal_name", ""),
            tagline=raw.get("tagline", ""),
            description=raw.get("description", ""),
            website_url=raw.get("website_url", ""),
            hq_country_code=raw.get("hq_country_code", ""),
            founding_year=int(raw.get("founding_year", 0)),
            company_size=CompanySize(raw.get("company_size", 0)),
            industries=_strings(raw, "industries"),
            solution_categories=_strings(raw, "solution_categories"),
            target_regions=_strings(raw, "target_regions"),
            target_country_codes=_strings(raw, "target_country_codes"),
            licensing_models=tuple(LicensingModel(v) for v in raw.get("licensing_models", ())),
            distribution_channels=tuple(DistributionChannel(v) for v in raw.get("distribution_channels", ())),
            technology_partners=_strings(raw, "technology_partners"),
            wanted_technology_partners=_strings(raw, "wanted_technology_partners"),
            contact=Contact.from_dict(raw.get("contact", {})),
            financials=Financials.from_dict(raw.get("financials", {})),
            pitch=Pitch.from_dict(raw.get("pitch", {})),
        )


def content_to_json(content: CompanyContent) -> str:
    """The stored form of a page's content (the `profile` column): compact JSON."""
    return json.dumps(content.to_dict(), separators=(",", ":"))


def content_from_json(text: str) -> CompanyContent:
    return CompanyContent.from_dict(json.loads(text))


_NESTED: dict[str, type[Contact | Financials | Pitch]] = {"contact": Contact, "financials": Financials, "pitch": Pitch}

# Leaf paths UpdateCompany may change; a nested message's name stands for all its leaves.
LEAF_FIELDS: tuple[str, ...] = tuple(
    f"{f.name}.{sub.name}" if f.name in _NESTED else f.name
    for f in fields(CompanyContent)
    for sub in (fields(_NESTED[f.name]) if f.name in _NESTED else (f,))
)
UPDATABLE_FIELDS: tuple[str, ...] = (*LEAF_FIELDS, *_NESTED)


def expand_paths(paths: frozenset[str]) -> frozenset[str]:
    """Mask paths as leaves: `contact` becomes `contact.email`, `contact.phone_number`..."""
    return frozenset(leaf for leaf in LEAF_FIELDS if leaf in paths or leaf.partition(".")[0] in paths)


def read_path(content: CompanyContent, path: str) -> Any:
    head, _, tail = path.partition(".")
    value = getattr(content, head)
    return getattr(value, tail) if tail else value


def apply_paths(current: CompanyContent, changes: CompanyContent, leaves: frozenset[str]) -> CompanyContent:
    """`current` with the given leaf paths copied from `changes`."""
    top = {p for p in leaves if "." not in p}
    updates: dict[str, Any] = {p: getattr(changes, p) for p in top}
    for nested in _NESTED:
        subs = {p.partition(".")[2] for p in leaves if p.startswith(f"{nested}.")}
        if subs:
            source = getattr(changes, nested)
            updates[nested] = replace(getattr(current, nested), **{s: getattr(source, s) for s in subs})
    return replace(current, **updates)

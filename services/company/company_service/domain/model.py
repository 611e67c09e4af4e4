"""Company pages: what a page holds (DevInsider's CRM fields) and the rules for changing it. No I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from devinsider_common import errors


class CompanyState(enum.StrEnum):
    PRE_LISTED = "pre_listed"
    CLAIM_PENDING = "claim_pending"
    ACTIVE = "active"
    DELETED = "deleted"


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


@dataclass(frozen=True)
class Money:
    currency_code: str = ""
    amount_minor: int = 0

    @property
    def is_set(self) -> bool:
        return bool(self.currency_code) or self.amount_minor != 0


@dataclass(frozen=True)
class FundingRound:
    stage: str = ""
    amount: Money = Money()
    close_date: date | None = None


@dataclass(frozen=True)
class Contact:
    email: str = ""
    phone_number: str = ""
    postal_address: str = ""
    contact_name: str = ""
    linkedin_url: str = ""


@dataclass(frozen=True)
class Financials:
    revenue_range: RevenueRange = RevenueRange.UNSPECIFIED
    looking_for_funding: bool = False
    funding_target: Money = Money()
    funding_rounds: tuple[FundingRound, ...] = ()
    last_funding_date: date | None = None
    total_raised: Money = Money()


@dataclass(frozen=True)
class Pitch:
    pain_point: str = ""
    differentiator: str = ""
    team: str = ""
    published: bool = False


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


_NESTED: dict[str, type[Any]] = {"contact": Contact, "financials": Financials, "pitch": Pitch}

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


@dataclass(frozen=True)
class Logo:
    key: str  # storage key
    content_type: str


@dataclass(frozen=True)
class Claim:
    """Who claims (or claimed) a pre-listed page, kept to make them owner on approval."""

    subject: str
    user: str = ""
    display_name: str = ""
    email: str = ""
    message: str = ""
    evidence_url: str = ""


@dataclass(frozen=True)
class Company:
    id: str
    content: CompanyContent
    state: CompanyState = CompanyState.ACTIVE
    logo: Logo | None = None
    claim: Claim | None = None
    # The ISV user who founded (created or claimed) the page: one live page per founder.
    founder: str = ""
    creator: str = ""  # subject of whoever created it (staff and services for pre-listed pages)
    idempotency_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    version: int = 1

    @property
    def name(self) -> str:
        return f"companies/{self.id}"

    @property
    def is_deleted(self) -> bool:
        return self.state is CompanyState.DELETED

    def deleted(self, now: datetime) -> Company:
        if self.is_deleted:
            raise errors.NotFound(f"{self.name} does not exist", reason="COMPANY_NOT_FOUND")
        return replace(self, state=CompanyState.DELETED, deleted_at=now, updated_at=now, founder="")

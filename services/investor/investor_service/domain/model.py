"""Investor pages: what a page holds and the rules for changing it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from devinsider_common.errors import Violations
from devinsider_common.pages.roles import PageRole
from investor_service.domain.enums import InvestorState
from investor_service.domain.validation import validate_profile


@dataclass(frozen=True)
class Money:
    """An amount in minor units (cents) of an ISO 4217 currency."""

    currency_code: str
    amount_minor: int


@dataclass(frozen=True)
class Contact:
    """Restricted: members, staff, services (and unlocking organisations) only."""

    email: str = ""
    phone_number: str = ""
    contact_name: str = ""
    linkedin_url: str = ""


@dataclass(frozen=True)
class Profile:
    """Everything a page's editors write (UpdateInvestor's update_mask paths)."""

    display_name: str = ""
    category: int = 0  # an InvestorCategory value; 0 (unspecified) fails validation
    investor_type: int = 0  # an InvestorType value; 0 fails validation
    tagline: str = ""
    description: str = ""
    website_url: str = ""
    logo_url: str = ""
    hq_country_code: str = ""
    ticket_min: Money | None = None
    ticket_max: Money | None = None
    funding_stages: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    solution_categories: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    country_codes: tuple[str, ...] = ()
    portfolio: tuple[str, ...] = ()
    contact: Contact = field(default_factory=Contact)


CONTACT_FIELDS = ("email", "phone_number", "contact_name", "linkedin_url")
# Paths accepted in update_mask: every profile field, and the contact's sub-fields one by one.
PROFILE_FIELDS = tuple(f for f in Profile.__dataclass_fields__ if f != "contact")
UPDATABLE_PATHS = (*PROFILE_FIELDS, "contact", *(f"contact.{f}" for f in CONTACT_FIELDS))


def normalized(profile: Profile) -> Profile:
    """Trimmed text, upper-case country and currency codes, lower-case taxonomy codes, no duplicates."""

    def codes(values: tuple[str, ...], upper: bool = False) -> tuple[str, ...]:
        cleaned = (v.strip().upper() if upper else v.strip().lower() for v in values)
        return tuple(dict.fromkeys(cleaned))

    def money(value: Money | None) -> Money | None:
        return None if value is None else Money(value.currency_code.strip().upper(), value.amount_minor)

    contact = profile.contact
    return replace(
        profile,
        display_name=profile.display_name.strip(),
        tagline=profile.tagline.strip(),
        description=profile.description.strip(),
        website_url=profile.website_url.strip(),
        logo_url=profile.logo_url.strip(),
        hq_country_code=profile.hq_country_code.strip().upper(),
        ticket_min=money(profile.ticket_min),
        ticket_max=money(profile.ticket_max),
        funding_stages=codes(profile.funding_stages),
        industries=codes(profile.industries),
        solution_categories=codes(profile.solution_categories),
        regions=codes(profile.regions),
        country_codes=codes(profile.country_codes, upper=True),
        portfolio=tuple(dict.fromkeys(p.strip() for p in profile.portfolio)),
        contact=Contact(
            email=contact.email.strip().lower(),
            phone_number=contact.phone_number.strip(),
            contact_name=contact.contact_name.strip(),
            linkedin_url=contact.linkedin_url.strip(),
        ),
    )


@dataclass(frozen=True)
class Investor:
    id: str
    profile: Profile
    creator: str  # subject of whoever created the page
    state: InvestorState = InvestorState.ACTIVE
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    request_id: str = ""  # the creator's idempotency key, when given
    # When the page lost its last member (devinsider_common.pages.orphans); None while it has an owner.
    orphaned_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"investors/{self.id}"

    @property
    def is_deleted(self) -> bool:
        return self.state is InvestorState.DELETED

    @staticmethod
    def validate_new(profile: Profile, prefix: str = "investor") -> Profile:
        """The normalized profile of a new page; every bad field is reported at once."""
        clean = normalized(profile)
        checks = Violations()
        validate_profile(checks, clean, frozenset(UPDATABLE_PATHS), prefix)
        checks.raise_if_any("invalid investor")
        return clean

    def with_changes(
        self, changes: Profile, paths: frozenset[str], now: datetime, prefix: str = "investor"
    ) -> tuple[Investor, list[str]]:
        """The page with `paths` copied from `changes` (validated on the result), and what changed."""
        changes = normalized(changes)
        updates = {p: getattr(changes, p) for p in paths if p in PROFILE_FIELDS}
        contact = self.profile.contact
        if "contact" in paths:
            contact = changes.contact
        else:
            sub = {p.partition(".")[2]: getattr(changes.contact, p.partition(".")[2]) for p in paths if "." in p}
            contact = replace(contact, **sub)
        profile = replace(self.profile, **updates, contact=contact)
        checks = Violations()
        validate_profile(checks, profile, paths | _ticket_touched(paths), prefix)
        checks.raise_if_any("invalid investor")
        changed = sorted(p for p in PROFILE_FIELDS if getattr(profile, p) != getattr(self.profile, p))
        before = self.profile.contact
        changed += [f"contact.{f}" for f in CONTACT_FIELDS if getattr(profile.contact, f) != getattr(before, f)]
        if not changed:
            return self, []
        return replace(self, profile=profile, updated_at=now), changed

    def deleted(self, now: datetime) -> Investor:
        return replace(self, state=InvestorState.DELETED, deleted_at=now, updated_at=now)


def _ticket_touched(paths: frozenset[str]) -> frozenset[str]:
    """Changing one end of the ticket range re-checks both (min <= max, one currency)."""
    return frozenset({"ticket_min", "ticket_max"}) if paths & {"ticket_min", "ticket_max"} else frozenset()


@dataclass(frozen=True)
class InvestorView:
    """A page and what the caller may see of it: `full` shows the restricted fields (the contact);
    `role` is the caller's role on the page, None for a non-member."""

    investor: Investor
    full: bool = False
    role: PageRole | None = None

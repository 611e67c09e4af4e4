"""User domain: users linked to a Keycloak subject and the rules for changing them. No I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from devinsider_common import validation
from devinsider_common.clock import as_utc
from devinsider_common.errors import Violations


class ContactCategory(enum.IntEnum):
    """DevInsider's seven CRM contact categories (values match the proto enum)."""

    UNSPECIFIED = 0
    SOFTWARE_VENDOR = 1
    RESELLER = 2
    GUEST = 3
    EXPERT_CONTRIBUTOR = 4
    INSTITUTIONAL_INVESTOR = 5
    INDIVIDUAL_INVESTOR = 6
    PARTNER_PROGRAM = 7


class UserState(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


# Fields a user may change on their own profile (UpdateMe's update_mask paths).
PROFILE_FIELDS = (
    "given_name",
    "family_name",
    "job_title",
    "country_code",
    "phone_number",
    "linkedin_url",
    "biography",
    "contact_category",
)


@dataclass(frozen=True)
class Profile:
    """What the user edits about themselves."""

    given_name: str = ""
    family_name: str = ""
    job_title: str = ""
    country_code: str = ""
    phone_number: str = ""
    linkedin_url: str = ""
    biography: str = ""
    contact_category: ContactCategory = ContactCategory.UNSPECIFIED

    def validate(self, fields: frozenset[str], prefix: str = "user") -> None:
        """Check the given fields; every bad one is reported at once."""
        checks = Violations()
        if "given_name" in fields:
            validation.text(checks, f"{prefix}.given_name", self.given_name, max_len=100)
        if "family_name" in fields:
            validation.text(checks, f"{prefix}.family_name", self.family_name, max_len=100)
        if "job_title" in fields:
            validation.text(checks, f"{prefix}.job_title", self.job_title, max_len=120)
        if "biography" in fields:
            validation.text(checks, f"{prefix}.biography", self.biography, max_len=2000)
        if "country_code" in fields:
            validation.country_code(checks, f"{prefix}.country_code", self.country_code)
        if "phone_number" in fields:
            validation.phone_number(checks, f"{prefix}.phone_number", self.phone_number)
        if "linkedin_url" in fields:
            validation.https_url(checks, f"{prefix}.linkedin_url", self.linkedin_url)
        checks.raise_if_any("invalid profile")


@dataclass(frozen=True)
class User:
    id: str
    subject: str
    email: str
    profile: Profile
    roles: tuple[str, ...] = ()
    verified_pro: bool = False
    state: UserState = UserState.ACTIVE
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Optimistic concurrency: every write bumps it and checks the value read.
    version: int = 1
    # Time of the last Keycloak event applied, so an older event never overwrites a newer one.
    last_event_at: datetime | None = field(default=None, compare=False)
    # Keycloak's: whether it verified the e-mail, and the time of the latest sign-in (LOGIN event).
    email_verified: bool = False
    last_login_at: datetime | None = None
    # Keycloak's `enabled` is false: the access rule refuses the user until Keycloak enables it again.
    # Reversible, like a blacklisting: the user keeps its state, memberships and data.
    disabled: bool = False

    @property
    def name(self) -> str:
        return f"users/{self.id}"

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.profile.given_name, self.profile.family_name) if p) or self.email

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2].lower()

    def signed_in(self, at: datetime) -> User | None:
        """The user with `at` as its last sign-in, or None when it knows a sign-in as late (a LOGIN
        event delivered late never moves the time backwards)."""
        if self.last_login_at is not None and as_utc(self.last_login_at) >= at:
            return None
        return replace(self, last_login_at=at)

    def with_profile(self, changes: Profile, fields: frozenset[str]) -> tuple[User, list[str]]:
        """The user with `fields` copied from `changes`, and the names of those that really changed."""
        changes.validate(fields)
        updates = {name: getattr(changes, name) for name in fields}
        changed = sorted(name for name, value in updates.items() if getattr(self.profile, name) != value)
        return replace(self, profile=replace(self.profile, **updates)), changed


@dataclass(frozen=True)
class UserView:
    """A user and what the caller may see of it: everything (`full`: the user themselves, staff and
    services) or the public profile only."""

    user: User
    full: bool

    @classmethod
    def for_caller(cls, user: User, subject: str, staff_or_service: bool) -> UserView:
        return cls(user, full=staff_or_service or subject == user.subject)

"""Partner programs: what a program page holds, its validation and its lifecycle. No I/O.

draft -> published -> archived, and draft -> archived; archiving is final. Every other
transition is FAILED_PRECONDITION.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime

from devinsider_common import errors, validation
from devinsider_common.errors import Violations
from devinsider_common.pages.names import PageKind, parse_page
from devinsider_common.pages.roles import PageRole


class ProgramType(enum.IntEnum):
    """Values match devinsider.program.v1.ProgramType."""

    RESELLER = 1
    REFERRAL = 2
    TECHNOLOGY = 3
    OEM = 4
    MARKETPLACE = 5


class ProgramState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


# Paths of Program an UpdateProgram's update_mask may name.
PROGRAM_FIELDS = (
    "display_name",
    "vendor_name",
    "vendor_company",
    "program_type",
    "tagline",
    "description",
    "benefits",
    "requirements",
    "country_codes",
    "regions",
    "industries",
    "solution_categories",
    "website_url",
    "logo_url",
)
LIST_FIELDS = ("benefits", "requirements", "country_codes", "regions", "industries", "solution_categories")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_ITEMS = 20
MAX_CODES = 50


@dataclass(frozen=True)
class ProgramContent:
    """What members edit about a program."""

    display_name: str = ""
    vendor_name: str = ""
    vendor_company: str = ""  # `companies/{id}` or empty
    program_type: ProgramType | None = None
    tagline: str = ""
    description: str = ""
    benefits: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    country_codes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    solution_categories: tuple[str, ...] = ()
    website_url: str = ""
    logo_url: str = ""

    def validate(self, fields: frozenset[str] | tuple[str, ...] = PROGRAM_FIELDS, prefix: str = "program") -> None:
        """Check the given fields; every bad one is reported at once."""
        checks = Violations()
        p = prefix
        if "display_name" in fields:
            validation.text(checks, f"{p}.display_name", self.display_name, max_len=120, required=True)
        if "vendor_name" in fields:
            validation.text(checks, f"{p}.vendor_name", self.vendor_name, max_len=120, required=True)
        if "vendor_company" in fields and self.vendor_company:
            _company(checks, f"{p}.vendor_company", self.vendor_company)
        if "program_type" in fields:
            checks.check(self.program_type is not None, f"{p}.program_type", "is required")
        if "tagline" in fields:
            validation.text(checks, f"{p}.tagline", self.tagline, max_len=160)
        if "description" in fields:
            validation.text(checks, f"{p}.description", self.description, max_len=5000)
        for name in ("benefits", "requirements"):
            if name in fields:
                _texts(checks, f"{p}.{name}", getattr(self, name))
        if "country_codes" in fields:
            _count(checks, f"{p}.country_codes", self.country_codes, MAX_CODES)
            for i, code in enumerate(self.country_codes):
                validation.country_code(checks, f"{p}.country_codes[{i}]", code)
        for name in ("regions", "industries", "solution_categories"):
            if name in fields:
                values: tuple[str, ...] = getattr(self, name)
                _count(checks, f"{p}.{name}", values, MAX_CODES)
                for i, code in enumerate(values):
                    checks.check(bool(_CODE.match(code)), f"{p}.{name}[{i}]", "must be a lower-case taxonomy code")
        if "website_url" in fields:
            _https(checks, f"{p}.website_url", self.website_url)
        if "logo_url" in fields:
            _https(checks, f"{p}.logo_url", self.logo_url)
        checks.raise_if_any("invalid program")


def _company(checks: Violations, path: str, value: str) -> None:
    try:
        parse_page(value, path, (PageKind.COMPANY,))
    except errors.InvalidArgument as error:
        checks.items.extend(error.violations)


def _texts(checks: Violations, path: str, values: tuple[str, ...]) -> None:
    _count(checks, path, values, MAX_ITEMS)
    for i, value in enumerate(values):
        validation.text(checks, f"{path}[{i}]", value, max_len=300, required=True)


def _count(checks: Violations, path: str, values: tuple[str, ...], maximum: int) -> None:
    checks.check(len(values) <= maximum, path, f"must have at most {maximum} items")
    checks.check(len(set(values)) == len(values), path, "must not repeat a value")


def _https(checks: Violations, path: str, value: str) -> None:
    if value:
        checks.check(value.startswith("https://"), path, "must be an https URL")
    validation.https_url(checks, path, value)


@dataclass(frozen=True)
class Program:
    id: str
    content: ProgramContent
    state: ProgramState = ProgramState.DRAFT
    member_company_count: int = 0
    creator: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    published_at: datetime | None = None
    archived_at: datetime | None = None
    deleted_at: datetime | None = None
    idempotency_key: str = ""
    version: int = 1
    # When the page lost its last member (devinsider_common.pages.orphans); None while it has an owner.
    orphaned_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"programs/{self.id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def with_content(self, changes: ProgramContent, fields: frozenset[str], now: datetime) -> tuple[Program, list[str]]:
        """The program with `fields` copied from `changes`, and the names of those that really changed."""
        if self.state is ProgramState.ARCHIVED:
            raise errors.FailedPrecondition("an archived program cannot change", reason="PROGRAM_ARCHIVED")
        changes.validate(fields)
        updates = {name: getattr(changes, name) for name in fields}
        changed = sorted(name for name, value in updates.items() if getattr(self.content, name) != value)
        if not changed:
            return self, []
        return replace(self, content=replace(self.content, **updates), updated_at=now), changed

    def publish(self, now: datetime) -> Program:
        if self.state is not ProgramState.DRAFT:
            raise errors.FailedPrecondition(
                f"only a draft can be published; this program is {self.state.value}", reason="PROGRAM_NOT_DRAFT"
            )
        return replace(self, state=ProgramState.PUBLISHED, published_at=now, updated_at=now)

    def archive(self, now: datetime) -> Program:
        if self.state is ProgramState.ARCHIVED:
            raise errors.FailedPrecondition("the program is already archived", reason="PROGRAM_ARCHIVED")
        return replace(self, state=ProgramState.ARCHIVED, archived_at=now, updated_at=now)

    def delete(self, now: datetime) -> Program:
        return replace(self, deleted_at=now, updated_at=now)

    def check_open_to_applications(self) -> None:
        if self.state is not ProgramState.PUBLISHED:
            raise errors.FailedPrecondition(
                f"the program is {self.state.value}: it takes no applications", reason="PROGRAM_NOT_PUBLISHED"
            )

    def with_member_companies(self, delta: int, now: datetime) -> Program:
        return replace(self, member_company_count=max(0, self.member_company_count + delta), updated_at=now)


@dataclass(frozen=True)
class ProgramView:
    """A program and what the caller is to it: its role (None when not a member). Programs have no
    private fields: who may see a program at all is decided before a view is made."""

    program: Program
    role: PageRole | None = None

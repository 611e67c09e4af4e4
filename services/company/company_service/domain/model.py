"""Company pages: the page, its state, logo and claim, and what a caller may see of it. No I/O.

What members edit on a page (its content and value objects) is in `domain/content.py`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Self

from company_service.domain.content import CompanyContent
from devinsider_common import errors
from devinsider_common.pages.roles import PageRole


class CompanyState(enum.StrEnum):
    PRE_LISTED = "pre_listed"
    CLAIM_PENDING = "claim_pending"
    ACTIVE = "active"
    DELETED = "deleted"


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "user": self.user,
            "display_name": self.display_name,
            "email": self.email,
            "message": self.message,
            "evidence_url": self.evidence_url,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        return cls(
            subject=raw["subject"],
            user=raw.get("user", ""),
            display_name=raw.get("display_name", ""),
            email=raw.get("email", ""),
            message=raw.get("message", ""),
            evidence_url=raw.get("evidence_url", ""),
        )


def claim_to_json(claim: Claim) -> str:
    """The stored form of a claim (the `claim` column): JSON with the default separators."""
    return json.dumps(claim.to_dict())


def claim_from_json(text: str) -> Claim:
    return Claim.from_dict(json.loads(text))


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
    # When the page lost its last member (devinsider_common.pages.orphans); None while it has an owner.
    orphaned_at: datetime | None = None
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


@dataclass(frozen=True)
class CompanyView:
    """A page and what the caller may see of it: everything (`full`: members, staff, services and
    the organisations that unlocked it) or the public view, and the caller's role on it."""

    company: Company
    full: bool
    role: PageRole | None = None

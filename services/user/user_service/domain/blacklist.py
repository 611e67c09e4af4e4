"""The blacklist: users (by Keycloak subject) and e-mail domains denied the platform. No I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from devinsider_common import validation
from devinsider_common.errors import Violations


class BlacklistKind(enum.StrEnum):
    USER = "user"
    EMAIL_DOMAIN = "email_domain"


@dataclass(frozen=True)
class BlacklistEntry:
    id: str
    kind: BlacklistKind
    value: str
    reason: str = ""
    creator: str = ""
    created_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"blacklistEntries/{self.id}"

    def validate(self) -> None:
        checks = Violations()
        if self.kind is BlacklistKind.EMAIL_DOMAIN:
            validation.domain_name(checks, "blacklist_entry.value", self.value)
        else:
            validation.text(checks, "blacklist_entry.value", self.value, max_len=255, required=True)
        validation.text(checks, "blacklist_entry.reason", self.reason, max_len=500)
        checks.raise_if_any("invalid blacklist entry")


@dataclass(frozen=True)
class AccessDecision:
    """Whether a subject may use the platform, and why not."""

    allowed: bool
    reason: str = ""
    user: str = ""  # `users/{id}` when the subject has a user


def decide_access(
    subject: str,
    email: str,
    user_deleted: bool,
    blocked_subjects: set[str],
    blocked_domains: set[str],
    *,
    user_disabled: bool = False,
) -> AccessDecision:
    """The platform's access rule: deleted users, users Keycloak disables, and blacklisted subjects or
    domains are refused."""
    if user_deleted:
        return AccessDecision(False, "DELETED")
    if user_disabled:
        return AccessDecision(False, "DISABLED")
    if subject in blocked_subjects:
        return AccessDecision(False, "BLACKLISTED_USER")
    domain = email.rpartition("@")[2].lower()
    # A blocked domain also blocks its subdomains (mail.spam.example under spam.example).
    if domain and any(domain == d or domain.endswith("." + d) for d in blocked_domains):
        return AccessDecision(False, "BLACKLISTED_DOMAIN")
    return AccessDecision(True)


def parent_domains(email: str) -> set[str]:
    """The e-mail's domain and its parents (`a.b.example` -> a.b.example, b.example, example)."""
    labels = email.rpartition("@")[2].lower().split(".")
    return {".".join(labels[i:]) for i in range(len(labels)) if labels[i]} if "@" in email else set()

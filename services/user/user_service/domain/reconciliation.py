"""Reconciliation with Keycloak: what its admin API says of a user, and how a local user follows it. No I/O.

Keycloak owns the e-mail address, its verification and whether the account is enabled: they follow
Keycloak (a disabled account is refused, not deleted: `User.disabled`). Names are also edited
here (UpdateMe) and nothing records which side wrote last, so Keycloak's names only fill a name that
is empty here: overwriting would undo the user's own edits on every run.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from user_service.domain.model import Profile, User


@dataclass(frozen=True)
class KeycloakAccount:
    """A user of the realm as Keycloak's admin API lists it (`UserRepresentation`)."""

    subject: str  # its `id`, the `sub` of its tokens
    email: str = ""
    given_name: str = ""
    family_name: str = ""
    email_verified: bool = False
    enabled: bool = True  # absent from an answer: enabled (never lock anyone out on a missing field)


class Drift(enum.StrEnum):
    MISSING = "missing"  # in Keycloak, not here: created
    CHANGED = "changed"  # here, with an e-mail, verification or empty name Keycloak has otherwise: updated
    DISABLED = "disabled"  # here, enabled while Keycloak disables it (or the reverse): access follows
    ABSENT = "absent"  # here, no longer in Keycloak: marked deleted


@dataclass
class ReconciliationReport:
    """What one run found and what it fixed (a fix can lose to a concurrent change: the next run looks again)."""

    listed: int = 0
    found: Counter[Drift] = field(default_factory=Counter)
    fixed: Counter[Drift] = field(default_factory=Counter)
    # Absent users left alone because there were more than the run may delete.
    deletions_held: int = 0


def user_from_account(account: KeycloakAccount, user_id: str, now: datetime, observed_at: datetime) -> User:
    """The user REGISTER would have created for `account`, as Keycloak showed it at `observed_at`."""
    return User(
        id=user_id,
        subject=account.subject,
        email=account.email.lower(),
        profile=Profile(given_name=account.given_name[:100], family_name=account.family_name[:100]),
        created_at=now,
        updated_at=now,
        email_verified=account.email_verified,
        last_event_at=observed_at,
        disabled=not account.enabled,
    )


def follow_account(user: User, account: KeycloakAccount) -> tuple[User, list[str]]:
    """`user` brought in step with `account`, and the names (proto fields) of what changed."""
    email = account.email.lower() or user.email  # a Keycloak user without an e-mail keeps ours
    profile = replace(
        user.profile,
        given_name=user.profile.given_name or account.given_name[:100],
        family_name=user.profile.family_name or account.family_name[:100],
    )
    changed = [name for name in ("given_name", "family_name") if getattr(profile, name) != getattr(user.profile, name)]
    if email != user.email:
        changed.append("email")
    if account.email_verified != user.email_verified:
        changed.append("email_verified")
    if user.disabled == account.enabled:
        changed.append("disabled")
    followed = replace(
        user, email=email, profile=profile, email_verified=account.email_verified, disabled=not account.enabled
    )
    return followed, changed


def drift_of(changed: list[str]) -> Drift:
    """The kind of drift of a user `follow_account` changed: a change of access outweighs the profile's."""
    return Drift.DISABLED if "disabled" in changed else Drift.CHANGED

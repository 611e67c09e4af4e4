"""Unlocks as the contact service knows them: a projection of billing's `UnlockCreated` events (the shared
`devinsider_common.pages.unlocks.UnlockProjector`, every kind of page), read to allow a contact request
and to answer "who unlocked us"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devinsider_common import errors
from devinsider_common.clock import as_utc
from devinsider_common.pages.names import PageName


@dataclass(frozen=True)
class PageUnlock:
    unlock: str  # billing's resource name, `{unlocker}/unlocks/{id}`
    target: PageName
    unlocker: PageName
    created_at: datetime


def unlock_position(unlock: PageUnlock) -> tuple[str, str]:
    """The keyset position of an unlock in its target's list (newest first)."""
    return as_utc(unlock.created_at).isoformat(), unlock.unlock


def open_unlock_position(after: tuple[Any, ...] | None) -> tuple[datetime, str] | None:
    """The position a page token carried, back to its types."""
    if after is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(after[0]))), str(after[1])
    except (ValueError, IndexError) as error:
        raise errors.InvalidArgument.for_field("page_token", "is not a token of this list") from error


def require_unlocked(unlocked: bool, sender: PageName, target: PageName) -> None:
    if not unlocked:
        raise errors.FailedPrecondition(
            f"{sender.name} has not unlocked {target.name}: unlock its contact details first",
            reason="CONTACT_REQUIRES_UNLOCK",
        )

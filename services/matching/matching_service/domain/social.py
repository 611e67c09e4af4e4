"""Favorites and blocks between organisation pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from devinsider_common.errors import Violations
from devinsider_common.pages.names import PageName
from matching_service.domain.pages import PageStatus

MAX_REASON = 500


@dataclass(frozen=True)
class Favorite:
    id: str
    owner: PageName
    page: PageName
    creator: str
    created_at: datetime

    @property
    def name(self) -> str:
        return f"{self.owner.name}/favorites/{self.id}"


@dataclass(frozen=True)
class Block:
    id: str
    blocker: PageName
    page: PageName
    reason: str
    creator: str
    created_at: datetime

    @property
    def name(self) -> str:
        return f"{self.blocker.name}/blocks/{self.id}"


@dataclass(frozen=True)
class FavoriteView:
    """A favorite and what its page's owning service says of the page (None: it said nothing)."""

    favorite: Favorite
    status: PageStatus | None


@dataclass(frozen=True)
class BlockView:
    """A block and what the blocked page's owning service says of it (None: it said nothing)."""

    block: Block
    status: PageStatus | None


def check_other_page(owner: PageName, other: PageName, path: str) -> None:
    v = Violations()
    v.check(owner.name != other.name, path, "must be another page")
    v.raise_if_any()


def check_reason(reason: str) -> None:
    v = Violations()
    v.check(len(reason) <= MAX_REASON, "block.reason", f"must be at most {MAX_REASON} characters")
    v.check(not any(ord(ch) < 32 and ch not in "\n\t" for ch in reason), "block.reason", "no control characters")
    v.raise_if_any()

"""Unlocks: a page spends credits to see another page's contact details, forever.

Who may unlock whom and at what cost is configuration (`<spender kind>:<target kind>` -> credits);
one's own page and pages of a pair in which either blocked the other cannot be unlocked, nor can a
page that does not exist or is not open to the public (nobody pays for contacts nobody may see).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from devinsider_common import errors
from devinsider_common.pages.names import PageName


@dataclass(frozen=True)
class Unlock:
    id: str
    page: PageName
    target: PageName
    cost: int
    ledger_entry_id: str
    creator: str
    created_at: datetime
    request_id: str | None = None

    @property
    def name(self) -> str:
        return f"{self.page.name}/unlocks/{self.id}"


@dataclass(frozen=True)
class UnlockPrices:
    costs: dict[str, int]

    @classmethod
    def from_config(cls, costs: dict[str, int]) -> UnlockPrices:
        for pair, cost in costs.items():
            spender, _, target = pair.partition(":")
            if not spender or not target or isinstance(cost, bool) or cost <= 0:
                raise ValueError(f"unlock cost {pair!r}={cost!r}: expected `<kind>:<kind>` and a positive cost")
        return cls(dict(costs))

    def cost(self, spender: PageName, target: PageName) -> int:
        """The price of `spender` unlocking `target`; FailedPrecondition for pairs that may not unlock."""
        if spender == target:
            raise errors.FailedPrecondition("a page cannot unlock itself", reason="OWN_PAGE")
        cost = self.costs.get(f"{spender.kind.label}:{target.kind.label}")
        if cost is None:
            raise errors.FailedPrecondition(
                f"a {spender.kind.label} page cannot unlock a {target.kind.label} page", reason="UNLOCK_NOT_OFFERED"
            )
        return cost


class TargetState(enum.Enum):
    """What the owning service says of a page about to be unlocked (None: unknown or deleted)."""

    ACTIVE = "active"  # public (listed, or at least readable by anyone): may be unlocked
    INACTIVE = "inactive"  # exists but closed to the public for now (claim pending, archived)


def require_unlockable(target: PageName, state: TargetState | None) -> None:
    """NotFound for a page that does not exist, FailedPrecondition for one that is not active."""
    if state is None:
        raise errors.NotFound(
            f"{target.name} does not exist", reason="UNLOCK_TARGET_NOT_FOUND", metadata={"target": target.name}
        )
    if state is TargetState.INACTIVE:
        raise errors.FailedPrecondition(
            f"{target.name} is not active: it cannot be unlocked now",
            reason="UNLOCK_TARGET_INACTIVE",
            metadata={"target": target.name},
        )

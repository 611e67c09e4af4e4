"""Unlocks: a page spends credits to see another page's contact details, forever.

Who may unlock whom and at what cost is configuration (`<spender kind>:<target kind>` -> credits);
one's own page and pages of a pair in which either blocked the other cannot be unlocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_service.domain.pages import Page
from devinsider_common import errors


@dataclass(frozen=True)
class Unlock:
    id: str
    page: Page
    target: Page
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

    def cost(self, spender: Page, target: Page) -> int:
        """The price of `spender` unlocking `target`; FailedPrecondition for pairs that may not unlock."""
        if spender == target:
            raise errors.FailedPrecondition("a page cannot unlock itself", reason="OWN_PAGE")
        cost = self.costs.get(f"{spender.kind.label}:{target.kind.label}")
        if cost is None:
            raise errors.FailedPrecondition(
                f"a {spender.kind.label} page cannot unlock a {target.kind.label} page", reason="UNLOCK_NOT_OFFERED"
            )
        return cost

"""What the use cases need from the outside world, as interfaces (adapters implement them).

Page permissions (CheckPageAccess) and states (BatchGet*) are answered by the service owning the
page, blocked pairs by the matching service (CheckBlocked), payments by the provider; the use cases
see none of that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from billing_service.domain.money import Money
from billing_service.domain.plans import Interval
from billing_service.domain.unlocks import TargetState
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission


class PageAccess(Protocol):
    def require(self, page: PageName, subject: str, permission: PagePermission) -> None:
        """PermissionDenied unless `subject` holds `permission` on `page` (unknown pages: denied)."""
        ...

    def allowed(self, page: PageName, subject: str, permission: PagePermission) -> bool: ...


class BlockList(Protocol):
    def is_blocked(self, a: PageName, b: PageName) -> bool:
        """Whether either page blocked the other."""
        ...


class PageStates(Protocol):
    def state(self, page: PageName) -> TargetState | None:
        """The page's state as its owning service sees it now (never cached); None when it does
        not exist or is deleted. Unavailable when that service cannot be reached."""
        ...


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # our checkout's resource name, echoed back in the provider's events
    description: str
    amount: Money
    subscription_interval: Interval  # NONE for one-off payments
    trial_days: int
    success_url: str
    cancel_url: str
    expire_time: datetime
    customer_email: str


@dataclass(frozen=True)
class ProviderCheckout:
    reference: str
    url: str


class PaymentProvider(Protocol):
    def create_checkout(self, request: CheckoutRequest) -> ProviderCheckout: ...

    def cancel_subscription(self, reference: str, at_period_end: bool) -> None: ...

"""A checkout: a payment session at the provider for a plan or a credit pack.

OPEN -> COMPLETED | EXPIRED | FAILED, each final. Only the provider's signed webhook completes it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlparse

from billing_service.domain.money import Money
from devinsider_common import errors
from devinsider_common.pages.names import PageName
from devinsider_common.validation import https_url


class CheckoutState(enum.IntEnum):
    OPEN = 1
    COMPLETED = 2
    EXPIRED = 3
    FAILED = 4


@dataclass(frozen=True)
class Checkout:
    id: str
    page: PageName
    plan_id: str
    success_url: str
    cancel_url: str
    amount: Money
    creator: str
    created_at: datetime
    expire_time: datetime
    state: CheckoutState = CheckoutState.OPEN
    checkout_url: str = ""
    provider_reference: str = ""
    contact_email: str = ""
    subscription_id: str = ""
    invoice_id: str = ""
    close_time: datetime | None = None
    failure_reason: str = ""
    request_id: str | None = None

    @property
    def name(self) -> str:
        return f"{self.page.name}/checkouts/{self.id}"

    def _require_open(self) -> None:
        if self.state is not CheckoutState.OPEN:
            raise errors.FailedPrecondition(
                f"the checkout is already {self.state.name.lower()}", reason="CHECKOUT_CLOSED"
            )

    def completed(self, now: datetime, invoice_id: str, subscription_id: str = "") -> Checkout:
        self._require_open()
        return replace(
            self, state=CheckoutState.COMPLETED, close_time=now, invoice_id=invoice_id, subscription_id=subscription_id
        )

    def failed(self, now: datetime, reason: str) -> Checkout:
        self._require_open()
        return replace(self, state=CheckoutState.FAILED, close_time=now, failure_reason=reason[:500])

    def expired(self, now: datetime) -> Checkout:
        self._require_open()
        return replace(self, state=CheckoutState.EXPIRED, close_time=now)


@dataclass(frozen=True)
class ReturnOrigins:
    """The web origins (`scheme://host[:port]`) the provider may send buyers back to after paying:
    ALLOWED_RETURN_ORIGINS. Anything else would make the provider's page an open redirect."""

    allowed: tuple[str, ...]

    @classmethod
    def from_config(cls, origins: Iterable[str]) -> ReturnOrigins:
        return cls(tuple(dict.fromkeys(o.strip().rstrip("/").lower() for o in origins if o.strip())))

    def check(self, violations: errors.Violations, path: str, url: str, *, required: bool) -> None:
        """An http(s) URL on an allowed origin; the violation names the allowed ones, so a web
        developer sees at once which origin to use (or which to ask the operator to add)."""
        before = len(violations.items)
        https_url(violations, path, url, required=required)
        if not url or len(violations.items) > before:
            return
        parsed = urlparse(url)
        origin = f"{parsed.scheme}://{parsed.netloc}".lower()
        allowed = ", ".join(self.allowed) or "none configured"
        violations.check(
            origin in self.allowed,
            path,
            f"{origin} is not an allowed return origin (ALLOWED_RETURN_ORIGINS: {allowed})",
        )

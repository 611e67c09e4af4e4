"""Money in integer minor units of one currency; amounts of different currencies never mix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from devinsider_common import errors

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MINOR = 10**12  # 10 billion in a 2-decimal currency: anything larger is malformed


@dataclass(frozen=True)
class Money:
    currency: str
    amount_minor: int

    def __post_init__(self) -> None:
        if not _CURRENCY.match(self.currency):
            raise errors.InvalidArgument.for_field("currency_code", "must be an ISO 4217 code in upper case")
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise errors.InvalidArgument.for_field("amount_minor", "must be an integer number of minor units")
        if self.amount_minor < 0:
            raise errors.InvalidArgument.for_field("amount_minor", "must not be negative")
        if self.amount_minor > MAX_MINOR:
            raise errors.InvalidArgument.for_field("amount_minor", "is too large")

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}", reason="CURRENCY_MISMATCH")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.currency, self.amount_minor + other.amount_minor)

    def times(self, quantity: int) -> Money:
        return Money(self.currency, self.amount_minor * quantity)

    def tax(self, rate_bps: int) -> Money:
        """Tax at `rate_bps` basis points, rounded half up to the minor unit."""
        return Money(self.currency, (self.amount_minor * rate_bps + 5000) // 10000)

    def matches(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor == other.amount_minor


class CurrencyMismatch(errors.FailedPrecondition):
    """Two amounts of different currencies were combined or compared."""

"""The payment provider's signed webhook events: signature scheme and body shape.

Header `X-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The
body is JSON `{"id", "type", "created", "data": {...}}`; amounts are integer minor units.
"""

from __future__ import annotations

import enum
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from billing_service.domain.money import Money
from devinsider_common import errors
from devinsider_common.webhooks import sign


class EventType(enum.StrEnum):
    CHECKOUT_COMPLETED = "checkout.completed"
    CHECKOUT_FAILED = "checkout.failed"
    CHECKOUT_EXPIRED = "checkout.expired"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_PAYMENT_FAILED = "subscription.payment_failed"
    SUBSCRIPTION_CANCELED = "subscription.canceled"
    PAYMENT_REFUNDED = "payment.refunded"


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """What the provider sends (and tests forge) for `body` signed at `timestamp`."""
    return f"t={timestamp},v1={sign(f'{timestamp}.'.encode() + body, secret)}"


def verify(body: bytes, header: str | None, secret: str, now: datetime, tolerance_seconds: int) -> None:
    """Unauthenticated unless `header` signs `body` under `secret` at a time within the tolerance."""
    if not secret:
        raise errors.Unavailable("the payment webhook secret is not configured", reason="WEBHOOK_NOT_CONFIGURED")
    if not header:
        raise errors.Unauthenticated("the X-Payment-Signature header is missing", reason="SIGNATURE_MISSING")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError) as error:
        raise errors.Unauthenticated(
            "the signature header has no valid timestamp", reason="SIGNATURE_MALFORMED"
        ) from error
    expected = sign(f"{timestamp}.".encode() + body, secret)
    if not any(
        hmac.compare_digest(candidate.lower().encode(), expected.encode()) for candidate in fields.get("v1", [])
    ):
        raise errors.Unauthenticated("the signature does not match the body", reason="SIGNATURE_MISMATCH")
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise errors.Unauthenticated(
            "the signature timestamp is outside the tolerance window", reason="SIGNATURE_STALE"
        )


@dataclass(frozen=True)
class PaymentEvent:
    id: str
    type: EventType
    created: datetime
    data: dict[str, Any]

    def text(self, key: str, required: bool = True) -> str:
        value = self.data.get(key, "")
        if not isinstance(value, str) or (required and not value):
            raise errors.InvalidArgument.for_field(f"body.data.{key}", "must be a non-empty string")
        return value

    def money(self) -> Money:
        amount, currency = self.data.get("amount"), self.data.get("currency")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise errors.InvalidArgument.for_field("body.data.amount", "must be an integer of minor units")
        if not isinstance(currency, str):
            raise errors.InvalidArgument.for_field("body.data.currency", "must be an ISO 4217 code")
        try:
            return Money(currency, amount)
        except errors.InvalidArgument as error:
            raise errors.InvalidArgument.for_field(
                "body.data." + ("currency" if "currency" in error.message else "amount"), error.message
            ) from error

    def time(self, key: str) -> datetime:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise errors.InvalidArgument.for_field(f"body.data.{key}", "must be a unix time in seconds")
        return datetime.fromtimestamp(value, UTC)


def parse(body: bytes) -> PaymentEvent:
    """The event in a verified body; InvalidArgument for malformed bodies."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise errors.InvalidArgument.for_field("body", "is not JSON") from error
    if not isinstance(raw, dict):
        raise errors.InvalidArgument.for_field("body", "must be a JSON object")
    event_id, event_type, created, data = raw.get("id"), raw.get("type"), raw.get("created"), raw.get("data")
    violations = errors.Violations()
    violations.check(isinstance(event_id, str) and 0 < len(event_id) <= 128, "body.id", "must be a string id")
    violations.check(event_type in EventType._value2member_map_, "body.type", f"unknown event type {event_type!r}")
    violations.check(isinstance(created, int) and not isinstance(created, bool), "body.created", "must be unix seconds")
    violations.check(isinstance(data, dict), "body.data", "must be an object")
    violations.raise_if_any("malformed payment event")
    assert isinstance(event_id, str) and isinstance(created, int) and isinstance(data, dict)
    return PaymentEvent(event_id, EventType(str(event_type)), datetime.fromtimestamp(created, UTC), data)

"""The payment provider's HTTP API (the local provider speaks the same): checkouts, cancellations, plan
changes (a new recurring price, and an upgrade's prorated charge on the subscription's payment method).

Amounts travel as integer minor units with their currency; the API key goes in a bearer header.
Network failures and 5xx answers are UNAVAILABLE (the caller retries); 402 is a declined charge
(PAYMENT_DECLINED); other 4xx are our bug.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from billing_service.domain.plans import Interval
from billing_service.service_layer.ports import CheckoutRequest, ProviderCharge, ProviderCheckout, SubscriptionChange
from devinsider_common import errors

_INTERVALS = {Interval.MONTH: "month", Interval.YEAR: "year"}


class HttpPaymentProvider:
    def __init__(self, base_url: str, api_key: str, timeout_seconds: float = 5.0) -> None:
        if urllib.parse.urlparse(base_url).scheme not in {"http", "https"}:
            raise ValueError(f"payment provider URL must be http(s): {base_url!r}")
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._timeout = timeout_seconds

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            f"{self._base}{path}", data=json.dumps(payload).encode(), method="POST"
        )
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {self._key}")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise errors.Unavailable(f"the payment provider failed ({error.code}); retry") from error
            if error.code == 402:
                raise errors.FailedPrecondition(
                    "the payment provider declined the charge", reason="PAYMENT_DECLINED"
                ) from error
            raise errors.FailedPrecondition(
                f"the payment provider refused the request ({error.code})", reason="PROVIDER_REFUSED"
            ) from error
        except (OSError, ValueError) as error:
            raise errors.Unavailable(f"the payment provider cannot be reached: {error}") from error
        if not isinstance(answer, dict):
            raise errors.Unavailable("the payment provider answered something unexpected")
        return answer

    def create_checkout(self, request: CheckoutRequest) -> ProviderCheckout:
        payload = {
            "reference": request.reference,
            "description": request.description,
            "amount": request.amount.amount_minor,
            "currency": request.amount.currency,
            "mode": "subscription" if request.subscription_interval in _INTERVALS else "payment",
            "interval": _INTERVALS.get(request.subscription_interval, ""),
            "trial_days": request.trial_days,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expire_time.timestamp()),
            "customer_email": request.customer_email,
        }
        answer = self._post("/v1/checkout_sessions", payload)
        if not isinstance(answer.get("id"), str) or not isinstance(answer.get("url"), str):
            raise errors.Unavailable("the payment provider answered without a session id and URL")
        return ProviderCheckout(answer["id"], answer["url"])

    def cancel_subscription(self, reference: str, at_period_end: bool) -> None:
        self._post(f"/v1/subscriptions/{urllib.parse.quote(reference)}/cancel", {"at_period_end": at_period_end})

    def change_subscription(self, change: SubscriptionChange) -> ProviderCharge | None:
        payload: dict[str, Any] = {
            "idempotency_key": change.idempotency_key,
            "description": change.description,
            "amount": change.amount.amount_minor,
            "currency": change.amount.currency,
            "interval": _INTERVALS.get(change.interval, ""),
            "at_period_end": change.at_period_end,
        }
        if change.charge is not None:
            payload["charge"] = {"amount": change.charge.amount_minor, "currency": change.charge.currency}
        answer = self._post(f"/v1/subscriptions/{urllib.parse.quote(change.reference)}/change", payload)
        if change.charge is None:
            return None
        payment, receipt = answer.get("payment"), answer.get("receipt_url", "")
        if not isinstance(payment, str) or not payment or not isinstance(receipt, str):
            raise errors.Unavailable("the payment provider answered a charge without its payment id")
        return ProviderCharge(payment, receipt)

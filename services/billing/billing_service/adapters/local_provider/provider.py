"""The local payment provider: an HTTP server shaped like a real provider's API.

API (JSON, `Authorization: Bearer <api key>`):
  POST /v1/checkout_sessions                    open a session -> {id, url}
  GET  /v1/checkout_sessions/{id}               the session (state, payment, subscription)
  POST /v1/subscriptions/{id}/cancel            {at_period_end}
  POST /v1/subscriptions/{id}/renew             simulate the next billing cycle: {outcome: paid|failed}
  POST /v1/subscriptions/{id}/change            {amount, currency, interval, at_period_end, idempotency_key,
                                                charge?: {amount, currency}}: the recurring price from now
                                                on (or from the next cycle), and a charge taken at once on
                                                the subscription's card -> {payment, receipt_url}; 402 when
                                                the card declines; the same key answers the same again
  POST /v1/subscriptions/{id}/payment_method    simulate the card: {declines: true|false}
  POST /v1/payments/{id}/refund                 refund a payment
  POST /v1/events/{id}/resend                   deliver an already sent event again (same signature)
Buyer's side (no API key, like the provider's hosted pages):
  GET  /pay/{id}                                the payment page
  POST /pay/{id}                                action=pay|fail|expire (form or JSON); the provider
                                                then sends its signed event to the webhook URL
  GET  /receipts/{payment id}                   the receipt of a payment (the events' `receipt_url`)
Every state change is confirmed to billing only through a signed webhook, as a real provider does.
"""

from __future__ import annotations

import html
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from billing_service.adapters.local_provider.webhooks import Delivery, WebhookSender

POLL_SECONDS = 0.05  # how soon `stop` is noticed (serve_forever's default is 0.5 s)


class ProviderState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.changes: dict[str, dict[str, Any]] = {}  # idempotency key -> the answer given


class PaymentDeclined(Exception):
    """The subscription's card declined a charge (HTTP 402)."""


def _new(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class LocalPaymentProvider:
    """Owns the HTTP server; `url` is its base URL, `sender.url` where callbacks go."""

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_key = api_key
        self.state = ProviderState()
        self._clock = clock
        self.sender = WebhookSender(webhook_secret, clock)
        provider = self

        class Handler(_Handler):
            owner = provider

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="local-provider",
            daemon=True,
        )

    def start(self, webhook_url: str) -> LocalPaymentProvider:
        self.sender.url = webhook_url
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- actions (the HTTP handler calls these) ----------------------------------------------
    def open_session(self, payload: dict[str, Any]) -> dict[str, Any]:
        required = ("reference", "amount", "currency", "mode", "success_url")
        if any(key not in payload for key in required) or payload["mode"] not in ("payment", "subscription"):
            raise ValueError(f"a session needs {', '.join(required)} and mode payment|subscription")
        session_id = _new("cs")
        session = {**payload, "id": session_id, "state": "open", "url": f"{self.url}/pay/{session_id}"}
        with self.state.lock:
            self.state.sessions[session_id] = session
        return {"id": session_id, "url": session["url"]}

    def pay(self, session_id: str, action: str) -> tuple[dict[str, Any], Delivery]:
        with self.state.lock:
            session = self.state.sessions[session_id]
            if session["state"] != "open":
                raise ValueError(f"session {session_id} is {session['state']}")
            if action == "fail":
                session["state"] = "failed"
                event: tuple[str, dict[str, Any]] = (
                    "checkout.failed",
                    {"checkout": session_id, "reason": "card declined"},
                )
            elif action == "expire":
                session["state"] = "expired"
                event = ("checkout.expired", {"checkout": session_id})
            elif action == "pay":
                event = ("checkout.completed", self._complete(session))
            else:
                raise ValueError(f"unknown action {action!r}")
        return session, self.sender.send(*event)

    def _complete(self, session: dict[str, Any]) -> dict[str, Any]:
        trial = session["mode"] == "subscription" and int(session.get("trial_days") or 0) > 0
        amount = 0 if trial else int(session["amount"])
        payment_id = self._record_payment(amount, session["currency"], str(session.get("description") or ""))
        session.update(state="paid", payment=payment_id)
        data = {
            "checkout": session["id"],
            "reference": session["reference"],
            "payment": payment_id,
            "amount": amount,
            "currency": session["currency"],
            "receipt_url": self.receipt_url(payment_id),
        }
        if session["mode"] == "subscription":
            subscription_id = _new("sub")
            session["subscription"] = subscription_id
            self.state.subscriptions[subscription_id] = {
                "amount": int(session["amount"]),
                "currency": session["currency"],
                "interval": session.get("interval", "month"),
                "canceled": False,
            }
            data["subscription"] = subscription_id
        return data

    def renew(self, subscription_id: str, payload: dict[str, Any]) -> Delivery:
        with self.state.lock:
            subscription = self.state.subscriptions[subscription_id]
            if subscription["canceled"]:
                raise ValueError(f"subscription {subscription_id} is canceled")
            if payload.get("outcome", "paid") == "failed":
                return self.sender.send(
                    "subscription.payment_failed", {"subscription": subscription_id, "reason": "card expired"}
                )
            if "next" in subscription:  # a change asked for the next cycle starts with it
                subscription.update(subscription.pop("next"))
            amount = int(payload.get("amount", subscription["amount"]))
            currency = str(payload.get("currency", subscription["currency"]))
            payment_id = self._record_payment(amount, currency, f"renewal of {subscription_id}")
        data = {
            "subscription": subscription_id,
            "payment": payment_id,
            "amount": amount,
            "currency": currency,
            "receipt_url": self.receipt_url(payment_id),
        }
        for key in ("period_start", "period_end"):
            if key in payload:
                data[key] = int(payload[key])
        return self.sender.send("subscription.renewed", data)

    def change(self, subscription_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if "amount" not in payload or "currency" not in payload:
            raise ValueError("a change needs the new amount and currency")
        key = str(payload.get("idempotency_key") or "")
        with self.state.lock:
            subscription = self.state.subscriptions[subscription_id]
            if key and key in self.state.changes:
                return self.state.changes[key]
            if subscription["canceled"]:
                raise ValueError(f"subscription {subscription_id} is canceled")
            answer: dict[str, Any] = {"id": subscription_id}
            charge = payload.get("charge")
            if isinstance(charge, dict):
                if subscription.get("declines"):
                    raise PaymentDeclined(f"the card of {subscription_id} was declined")
                description = str(payload.get("description") or f"change of {subscription_id}")
                payment_id = self._record_payment(int(charge["amount"]), str(charge["currency"]), description)
                answer |= {"payment": payment_id, "receipt_url": self.receipt_url(payment_id)}
            price = {
                "amount": int(payload["amount"]),
                "currency": str(payload["currency"]),
                "interval": payload.get("interval") or subscription["interval"],
            }
            if payload.get("at_period_end"):
                subscription["next"] = price
            else:
                subscription.update(price)
                subscription.pop("next", None)
            if key:
                self.state.changes[key] = answer
            return answer

    def set_payment_method(self, subscription_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            subscription = self.state.subscriptions[subscription_id]
            subscription["declines"] = bool(payload.get("declines"))
            return {"id": subscription_id, "declines": subscription["declines"]}

    def _record_payment(self, amount: int, currency: str, description: str) -> str:
        """A new payment (the caller holds the state lock), kept for refunds and its receipt."""
        payment_id = _new("pay")
        self.state.payments[payment_id] = {
            "amount": amount,
            "currency": currency,
            "description": description,
            "paid_at": self._clock(),
            "refunded": False,
        }
        return payment_id

    def receipt_url(self, payment_id: str) -> str:
        return f"{self.url}/receipts/{payment_id}"

    def receipt(self, payment_id: str) -> str | None:
        """The receipt page of a payment, None for an unknown one."""
        with self.state.lock:
            payment = dict(self.state.payments.get(payment_id) or {})
        if not payment:
            return None
        paid = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(payment["paid_at"]))
        refunded = "<p class='refunded'>Refunded</p>" if payment["refunded"] else ""
        return (
            f"<html><body><h1>Receipt</h1><p class='payment'>{html.escape(payment_id)}</p>"
            f"<p class='description'>{html.escape(payment['description'])}</p>"
            f"<p class='amount'>{payment['amount'] / 100:.2f} {html.escape(payment['currency'])}</p>"
            f"<p class='paid'>Paid {paid}</p>{refunded}</body></html>"
        )

    def cancel(self, subscription_id: str, at_period_end: bool) -> dict[str, Any]:
        with self.state.lock:
            subscription = self.state.subscriptions[subscription_id]
            subscription["canceled"] = not at_period_end
            subscription["cancel_at_period_end"] = at_period_end
            return {"id": subscription_id, **subscription}

    def refund(self, payment_id: str) -> Delivery:
        with self.state.lock:
            payment = self.state.payments[payment_id]
            if payment["refunded"]:
                raise ValueError(f"payment {payment_id} is refunded already")
            payment["refunded"] = True
        data = {"payment": payment_id, "amount": payment["amount"], "currency": payment["currency"]}
        return self.sender.send("payment.refunded", data)

    def resend(self, event_id: str) -> Delivery:
        return self.sender.deliver(self.sender.sent[event_id])


class _Handler(BaseHTTPRequestHandler):
    owner: LocalPaymentProvider

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        value = json.loads(raw or b"{}")
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return value

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.owner.api_key}":
            return True
        self._reply(HTTPStatus.UNAUTHORIZED, {"error": "invalid API key"})
        return False

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "pay" and parts[1] in self.owner.state.sessions:
            session = self.owner.state.sessions[parts[1]]
            page = (
                f"<html><body><h1>{html.escape(str(session.get('description', 'Payment')))}</h1>"
                f"<p>{int(session['amount']) / 100:.2f} {html.escape(str(session['currency']))}</p>"
                f"<form method='post'><button name='action' value='pay'>Pay</button>"
                f"<button name='action' value='fail'>Decline</button></form></body></html>"
            )
            self._reply(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")
        elif len(parts) == 2 and parts[0] == "receipts":
            receipt = self.owner.receipt(parts[1])
            if receipt is None:
                self._reply(HTTPStatus.NOT_FOUND, {"error": "no such payment"})
            else:
                self._reply(HTTPStatus.OK, receipt.encode(), "text/html; charset=utf-8")
        elif len(parts) == 3 and parts[:2] == ["v1", "checkout_sessions"] and self._authorised():
            found = self.owner.state.sessions.get(parts[2])
            self._reply(HTTPStatus.OK if found else HTTPStatus.NOT_FOUND, found or {"error": "no such session"})
        elif not (len(parts) == 3 and parts[:2] == ["v1", "checkout_sessions"]):
            self._reply(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        parts = self.path.strip("/").split("/")
        try:
            payload = self._body()
            if len(parts) == 2 and parts[0] == "pay":
                session, delivery = self.owner.pay(parts[1], str(payload.get("action", "pay")))
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    target = session["success_url"] if session["state"] == "paid" else session.get("cancel_url") or ""
                    self.send_response(HTTPStatus.SEE_OTHER)
                    self.send_header("Location", target)
                    self.end_headers()
                    return
                self._reply(HTTPStatus.OK, {"event": delivery.event_id, "delivered": delivery.status})
                return
            if not self._authorised():
                return
            answer = self._route(parts, payload)
        except KeyError as error:
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"unknown {error}"})
            return
        except PaymentDeclined as error:
            self._reply(HTTPStatus.PAYMENT_REQUIRED, {"error": str(error)})
            return
        except ValueError as error:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            return
        self._reply(HTTPStatus.OK, answer)

    def _route(self, parts: list[str], payload: dict[str, Any]) -> Any:
        owner = self.owner
        match parts:
            case ["v1", "checkout_sessions"]:
                return owner.open_session(payload)
            case ["v1", "subscriptions", subscription_id, "cancel"]:
                return owner.cancel(subscription_id, bool(payload.get("at_period_end", True)))
            case ["v1", "subscriptions", subscription_id, "change"]:
                return owner.change(subscription_id, payload)
            case ["v1", "subscriptions", subscription_id, "payment_method"]:
                return owner.set_payment_method(subscription_id, payload)
            case ["v1", "subscriptions", subscription_id, "renew"]:
                delivery = owner.renew(subscription_id, payload)
            case ["v1", "payments", payment_id, "refund"]:
                delivery = owner.refund(payment_id)
            case ["v1", "events", event_id, "resend"]:
                delivery = owner.resend(event_id)
            case _:
                raise KeyError("/".join(parts))
        return {"event": delivery.event_id, "delivered": delivery.status}

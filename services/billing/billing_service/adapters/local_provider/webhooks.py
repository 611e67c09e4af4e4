"""Signed delivery of the local provider's events to a webhook URL, with a few retries."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billing_service.domain.payment_events import signature_header


@dataclass(frozen=True)
class SignedEvent:
    id: str
    body: bytes
    signature: str


@dataclass(frozen=True)
class Delivery:
    event_id: str
    status: int  # HTTP status of the last attempt; 0 when the URL could not be reached


class WebhookSender:
    def __init__(self, secret: str, clock: Callable[[], float] = time.time, attempts: int = 3) -> None:
        self._secret = secret
        self._clock = clock
        self._attempts = attempts
        self.url = ""
        self.sent: dict[str, SignedEvent] = {}

    def sign(self, event_type: str, data: dict[str, Any]) -> SignedEvent:
        now = int(self._clock())
        event_id = f"evt_{uuid.uuid4().hex}"
        body = json.dumps({"id": event_id, "type": event_type, "created": now, "data": data}).encode()
        signed = SignedEvent(event_id, body, signature_header(body, self._secret, now))
        self.sent[event_id] = signed
        return signed

    def send(self, event_type: str, data: dict[str, Any]) -> Delivery:
        return self.deliver(self.sign(event_type, data))

    def deliver(self, event: SignedEvent) -> Delivery:
        """POST the signed body; retried on network errors and 5xx answers, not on 4xx."""
        status = 0
        for attempt in range(self._attempts):
            request = urllib.request.Request(self.url, data=event.body, method="POST")  # noqa: S310 - configured URL
            request.add_header("Content-Type", "application/json")
            request.add_header("X-Payment-Signature", event.signature)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    return Delivery(event.id, response.status)
            except urllib.error.HTTPError as error:
                status = error.code
                if error.code < 500:
                    return Delivery(event.id, status)
            except OSError:
                status = 0
            time.sleep(0.05 * (attempt + 1))
        return Delivery(event.id, status)

"""The payment provider the service talks to, and the local one it runs in process when
PAYMENT_PROVIDER=local: built before the server, started once the server's port is known (its
callbacks go to PAYMENT_WEBHOOK_URL, or through a local forwarder to that port)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from billing_service.adapters.local_provider.forwarder import WebhookForwarder
from billing_service.adapters.local_provider.provider import LocalPaymentProvider
from billing_service.adapters.payment_provider import HttpPaymentProvider
from billing_service.settings import BillingSettings


class LocalProvider:
    """The local provider and, when no webhook URL is configured, the forwarder of its callbacks."""

    def __init__(self, settings: BillingSettings, clock: Callable[[], datetime]) -> None:
        self.provider = LocalPaymentProvider(
            settings.payment_provider_api_key,
            settings.payment_webhook_secret,
            host=settings.local_provider_host,
            port=settings.local_provider_port,
            clock=lambda: clock().timestamp(),
        )
        self.forwarder: WebhookForwarder | None = None
        self._webhook_url = settings.payment_webhook_url
        self._started = False

    def start(self, billing_port: int) -> tuple[LocalPaymentProvider, WebhookForwarder | None]:
        webhook_url = self._webhook_url
        if not webhook_url:
            self.forwarder = WebhookForwarder(f"127.0.0.1:{billing_port}").start()
            webhook_url = self.forwarder.url
        self._started = True
        return self.provider.start(webhook_url), self.forwarder

    def stop(self) -> None:
        if self.forwarder is not None:
            self.forwarder.stop()
        if self._started:
            self.provider.stop()


def payment_provider(
    settings: BillingSettings, clock: Callable[[], datetime]
) -> tuple[HttpPaymentProvider, LocalProvider | None]:
    """The provider's API client, and the local provider behind it with PAYMENT_PROVIDER=local."""
    if settings.payment_provider not in ("local", "http") or (
        settings.payment_provider == "http" and not settings.payment_provider_url
    ):
        raise ValueError("PAYMENT_PROVIDER must be `local`, or `http` with PAYMENT_PROVIDER_URL")
    local = LocalProvider(settings, clock) if settings.payment_provider == "local" else None
    url = local.provider.url if local is not None else settings.payment_provider_url
    return HttpPaymentProvider(url, settings.payment_provider_api_key), local

"""The billing service's settings: the shared ones plus prices, provider and neighbours."""

from __future__ import annotations

from pydantic import Field

from billing_service.domain.entitlements import Entitlements
from devinsider_common.settings import Secret, ServiceSettings


class BillingSettings(ServiceSettings):
    service_name: str = "billing"
    grpc_port: int = 50056
    # Other services (gRPC targets): page permissions, blocked pairs, the platform access rule.
    company_target: str = "127.0.0.1:50052"
    investor_target: str = "127.0.0.1:50053"
    program_target: str = "127.0.0.1:50054"
    matching_target: str = "127.0.0.1:50055"
    # How long answers of CheckPageAccess / CheckBlocked are reused.
    remote_cache_ttl_seconds: float = 10.0
    # Credits an unlock costs, per `<spender kind>:<target kind>`; a missing pair may not unlock.
    unlock_costs: dict[str, int] = Field(
        default_factory=lambda: {"program:company": 1, "company:investor": 1, "investor:company": 1}
    )
    # `local`: start the local provider in process (dev runs); `http`: talk to PAYMENT_PROVIDER_URL.
    payment_provider: str = "local"
    payment_provider_url: str = ""
    payment_provider_api_key: Secret = "dev-provider-key"
    # Shared secret of the provider's webhook signatures (`X-Payment-Signature`).
    payment_webhook_secret: Secret = "dev-payment-webhook-secret"  # noqa: S105 - dev default, refused in production
    # Signed events whose timestamp is further than this from now are refused.
    payment_webhook_tolerance_seconds: int = 300
    # Where the local provider sends its callbacks; empty: a local HTTP->gRPC forwarder is started.
    payment_webhook_url: str = ""
    # The local provider's listening address (its buyer pages and API): 127.0.0.1 in a dev run; in a container,
    # 0.0.0.0 on a fixed port, so that a buyer outside reaches the checkout pages (docker-compose.yml).
    local_provider_host: str = "127.0.0.1"
    local_provider_port: int = 0
    # Web origins the provider may send buyers back to (success/cancel URLs).
    allowed_return_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:3000", "https://app.devinsider.com"]
    )
    checkout_ttl_minutes: int = 60
    # A past-due subscription expires this long after its period ended unpaid.
    past_due_grace_days: int = 7
    # Taxes added to plan prices, in basis points (2000 = 20 %).
    tax_rate_bps: int = 0
    # Period of the job that ends periods, expires checkouts and expired credits.
    billing_job_interval_seconds: float = 60.0
    # The free tier: what a page without a live subscription is entitled to (counts of 0: no limit). It has
    # no monthly credits (nothing would pay for them).
    free_tier_match_results_visible: int = Field(default=10, ge=0)
    free_tier_directory_filters: bool = False
    free_tier_contact_requests_per_month: int = Field(default=5, ge=0)
    free_tier_seats: int = Field(default=3, ge=0)

    def free_tier(self) -> Entitlements:
        return Entitlements(
            monthly_credits=0,
            match_results_visible=self.free_tier_match_results_visible,
            directory_filters=self.free_tier_directory_filters,
            contact_requests_per_month=self.free_tier_contact_requests_per_month,
            seats=self.free_tier_seats,
        )

    def single_process_reason(self) -> str:
        if self.payment_provider == "local":  # its HTTP server listens on one port, in one process
            return "the local payment provider serves LOCAL_PROVIDER_PORT from one process"
        return super().single_process_reason()

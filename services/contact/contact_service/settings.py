"""The contact service's settings: the shared ones plus its neighbours and its abuse limits."""

from __future__ import annotations

from devinsider_common.entitlements import EntitlementSettings
from devinsider_common.settings import ServiceSettings


class ContactSettings(ServiceSettings, EntitlementSettings):
    """BILLING_TARGET and ENTITLEMENTS_CACHE_TTL_SECONDS (EntitlementSettings): each sending page's monthly
    allowance of contact requests."""

    service_name: str = "contact"
    grpc_port: int = 50057
    # Other services (gRPC targets): page permissions and display names, blocked pairs.
    company_target: str = "127.0.0.1:50052"
    investor_target: str = "127.0.0.1:50053"
    program_target: str = "127.0.0.1:50054"
    matching_target: str = "127.0.0.1:50055"
    # How long answers of CheckPageAccess / CheckBlocked are reused.
    remote_cache_ttl_seconds: float = 10.0
    # Contact requests a page may send per window; more is 429 CONTACT_REQUESTS_RATE_LIMITED with RetryInfo
    # (0: no limit). Counted from the stored requests, every state included.
    contact_request_rate_limit: int = 10
    contact_request_rate_window_seconds: float = 86400.0
    # After a decline, the sender may send the same page a new request this many days later.
    contact_request_decline_cooldown_days: float = 30.0

"""The investor service's settings: the page services' ones plus the pages that unlock investors."""

from __future__ import annotations

from devinsider_common.pages.settings import PageServiceSettings


class InvestorSettings(PageServiceSettings):
    service_name: str = "investor"
    grpc_port: int = 50053
    invitation_expiry_interval_seconds: float = 60.0
    invitation_accept_url: str = "http://localhost:3000/investors/invitations/accept"
    # The services of the pages that may unlock an investor page (companies; programs where billing sells
    # it): whether a viewer is a member of an unlocking page is asked there (CheckPageAccess); the unlocks
    # themselves are projected from billing's UnlockCreated events (devinsider_common.pages.unlocks).
    company_target: str = "127.0.0.1:50052"
    program_target: str = "127.0.0.1:50054"
    # How long such a membership answer is reused.
    unlock_cache_ttl_seconds: float = 30.0

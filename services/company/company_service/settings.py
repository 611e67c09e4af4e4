"""The company service's settings: the page services' ones plus logos and the pages that unlock companies."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import model_validator

from devinsider_common.pages.settings import PageServiceSettings
from devinsider_common.settings import VAR_DIR


class CompanySettings(PageServiceSettings):
    service_name: str = "company"
    grpc_port: int = 50052
    # Deprecated, use INVITATION_ACCEPT_URL: the web app's base URL, to which `/invitations/accept` is
    # appended when INVITATION_ACCEPT_URL is not set.
    web_base_url: str = ""
    # Public base of the HTTP API, prefixed to `logo_url` (empty: a path relative to the gateway).
    public_api_base_url: str = ""
    # Logos: largest accepted upload, and where the local-disk storage adapter keeps them.
    logo_max_bytes: int = 2 * 1024 * 1024
    upload_dir: Path = VAR_DIR / "uploads" / "company"
    # The services of the pages that may unlock a company (investors, programs): whether a viewer is a
    # member of an unlocking page is asked there (CheckPageAccess); the unlocks themselves are projected
    # from billing's UnlockCreated events (devinsider_common.pages.unlocks).
    investor_target: str = "127.0.0.1:50053"
    program_target: str = "127.0.0.1:50054"
    # How long such a membership answer is reused.
    unlock_cache_ttl_seconds: float = 30.0

    @model_validator(mode="after")
    def _deprecated_web_base_url(self) -> Self:
        if self.web_base_url and "invitation_accept_url" not in self.model_fields_set:
            self.invitation_accept_url = f"{self.web_base_url.rstrip('/')}/invitations/accept"
        return self

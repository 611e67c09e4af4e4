"""The invitation link setting is INVITATION_ACCEPT_URL, as in the other page services; the old
WEB_BASE_URL still works (deprecated) when it is not set."""

from __future__ import annotations

import os
from unittest import mock

from company_service.settings import CompanySettings
from devinsider_common.pages.settings import PageServiceSettings


def _load(**env: str) -> CompanySettings:
    with mock.patch.dict(os.environ, clear=False):
        for name in ("INVITATION_ACCEPT_URL", "WEB_BASE_URL"):
            os.environ.pop(name, None)
        os.environ.update(env)
        return CompanySettings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings' init-only option


def test_company_is_a_page_service_with_the_shared_accept_url_setting() -> None:
    assert issubclass(CompanySettings, PageServiceSettings)
    assert _load().invitation_accept_url == "http://localhost:3000/invitations/accept"
    assert (
        _load(INVITATION_ACCEPT_URL="https://app.example/accept").invitation_accept_url == "https://app.example/accept"
    )


def test_the_deprecated_web_base_url_still_makes_the_accept_link() -> None:
    assert _load(WEB_BASE_URL="https://app.example/").invitation_accept_url == "https://app.example/invitations/accept"


def test_invitation_accept_url_wins_over_the_deprecated_variable() -> None:
    settings = _load(WEB_BASE_URL="https://old.example", INVITATION_ACCEPT_URL="https://new.example/accept")
    assert settings.invitation_accept_url == "https://new.example/accept"

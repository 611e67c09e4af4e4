"""The reconciliation's settings: off by default, refused at start when it could not run."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from devinsider_common.settings import AuthSettings
from user_service.bootstrap import keycloak_directory

from ..fakes import fake_settings

CREDENTIALS = AuthSettings(token_url="https://sso.example.com/token", client_id="user", client_secret="s")


def test_the_reconciliation_is_off_by_default() -> None:
    assert fake_settings().keycloak_admin_url == "" and keycloak_directory(fake_settings()) is None


def test_an_admin_url_with_the_service_credentials_makes_a_directory() -> None:
    settings = fake_settings(keycloak_admin_url="https://sso.example.com", auth=CREDENTIALS)
    assert keycloak_directory(settings) is not None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"keycloak_admin_url": "https://sso.example.com"}, "AUTH_CLIENT_SECRET"),
        ({"keycloak_admin_url": "ftp://sso.example.com", "auth": CREDENTIALS}, "http"),
        ({"keycloak_reconcile_page_size": 0}, "keycloak_reconcile_page_size"),
        ({"keycloak_reconcile_max_deletions": -1}, "keycloak_reconcile_max_deletions"),
        ({"keycloak_reconcile_interval_seconds": 0}, "keycloak_reconcile_interval_seconds"),
    ],
)
def test_settings_the_reconciliation_cannot_run_with_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        fake_settings(**values)

"""Production mode (AUTH_JWKS_URL set) refuses the public dev default of every `Secret` setting."""

from __future__ import annotations

import pytest

from devinsider_common.settings import AuthSettings, PublicSecretError, Secret, ServiceSettings

PRODUCTION = AuthSettings(jwks_url="https://keycloak.example.com/realms/r/protocol/openid-connect/certs")
DEV = AuthSettings(jwks_url="")


class WebhookSettings(ServiceSettings):
    """A service declaring a secret of its own besides the shared page-token key."""

    webhook_secret: Secret = "dev-webhook-secret"


def build(auth: AuthSettings, **values: str) -> WebhookSettings:
    """The settings from `values` alone (model_validate reads neither the environment nor `.env`)."""
    return WebhookSettings.model_validate({"auth": auth, **values})


def test_production_is_defined_by_a_real_jwks() -> None:
    assert PRODUCTION.production and not DEV.production


def test_a_service_declares_its_secrets_by_their_type() -> None:
    assert ServiceSettings.secret_fields() == ["page_token_secret"]
    assert WebhookSettings.secret_fields() == ["page_token_secret", "webhook_secret"]


def test_production_refuses_every_secret_left_at_its_dev_default() -> None:
    with pytest.raises(PublicSecretError) as refused:
        build(PRODUCTION)
    message = str(refused.value)
    assert "AUTH_JWKS_URL" in message and "PAGE_TOKEN_SECRET, WEBHOOK_SECRET" in message


@pytest.mark.parametrize("value", ["", "dev-webhook-secret"])
def test_production_refuses_one_public_or_empty_secret_among_real_ones(value: str) -> None:
    with pytest.raises(PublicSecretError, match=r"default of WEBHOOK_SECRET: ") as refused:
        build(PRODUCTION, page_token_secret="a-real-page-key", webhook_secret=value)
    assert "a-real-page-key" not in str(refused.value)


def test_production_starts_with_real_secrets() -> None:
    settings = build(PRODUCTION, page_token_secret="a-real-page-key", webhook_secret="a-real-webhook-key")
    assert settings.webhook_secret == "a-real-webhook-key"


def test_dev_mode_keeps_the_dev_defaults() -> None:
    settings = build(DEV)
    assert (settings.page_token_secret, settings.webhook_secret) == ("dev-page-token-secret", "dev-webhook-secret")

"""A service refuses bad configuration with one line naming the variable, never the value."""

from __future__ import annotations

import pytest

from devinsider_common.settings import ServiceSettings
from devinsider_common.startup import EXIT_BAD_CONFIGURATION, load_settings


def test_valid_settings_are_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRPC_PORT", "50999")
    assert load_settings(ServiceSettings, "svc").grpc_port == 50999


def test_an_invalid_value_exits_with_the_variable_named_and_the_value_hidden(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRPC_PORT", "not-a-port-s3cr3t")
    with pytest.raises(SystemExit) as exited:
        load_settings(ServiceSettings, "devinsider-test-service")
    assert exited.value.code == EXIT_BAD_CONFIGURATION
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("devinsider-test-service: refusing to start: GRPC_PORT:")
    assert "s3cr3t" not in line


def test_a_public_secret_in_production_exits_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTH_JWKS_URL", "https://keycloak.example.com/realms/r/protocol/openid-connect/certs")
    with pytest.raises(SystemExit) as exited:
        load_settings(ServiceSettings, "svc")
    assert exited.value.code == EXIT_BAD_CONFIGURATION
    assert "PAGE_TOKEN_SECRET" in capsys.readouterr().err

"""Secrets: no service runs in production on a public dev default, and compose and Kubernetes give every
secret from a secret source (a git-ignored `.env`, Kubernetes Secrets), never from the repository.

A service declares its secrets by typing them `Secret` (devinsider_common.settings); production mode is
a real JWKS (AUTH_JWKS_URL set).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devinsider_common.settings import PublicSecretError

from .suite import ROOT, SERVICES, compose, container_env, env_fields, find, load_manifests, load_settings

MANIFESTS = load_manifests()
_REQUIRED = re.compile(r"\$\{([A-Z_]+):\?[^}]+\}")


def secret_variables(name: str) -> list[str]:
    return [field.upper() for field in SERVICES[name].secret_fields()]


def test_the_services_declare_their_secrets() -> None:
    declared = {name: set(secret_variables(name)) for name in SERVICES}
    assert all("PAGE_TOKEN_SECRET" in variables for variables in declared.values())
    assert {"KEYCLOAK_WEBHOOK_SECRET"} <= declared["user"]
    assert {"PAYMENT_WEBHOOK_SECRET", "PAYMENT_PROVIDER_API_KEY"} <= declared["billing"]


# --- Kubernetes


def _deployment_env(name: str) -> dict[str, dict[str, str]]:
    return container_env(MANIFESTS, find(MANIFESTS, "Deployment", name))


@pytest.mark.parametrize("name", SERVICES)
def test_kubernetes_gives_every_secret_from_a_secret(name: str) -> None:
    sources = _deployment_env(name)
    for variable in secret_variables(name):
        given_by = [source for source, values in sources.items() if variable in values]
        assert given_by and all(s.startswith("secret/") for s in given_by), f"{name}: {variable} from {given_by}"


@pytest.mark.parametrize("name", SERVICES)
def test_without_its_secrets_a_pod_would_refuse_to_start(name: str) -> None:
    sources = _deployment_env(name)
    plain = [values for source, values in sources.items() if not source.startswith("secret/")]
    without = {variable: value for values in plain for variable, value in values.items()}
    with pytest.raises(PublicSecretError) as refused:
        load_settings(SERVICES[name], without)
    for variable in secret_variables(name):
        assert variable in str(refused.value)


def test_each_service_has_its_own_page_token_key() -> None:
    keys = [
        value
        for name in SERVICES
        for source, values in _deployment_env(name).items()
        if source.startswith("secret/")
        for variable, value in values.items()
        if variable == "PAGE_TOKEN_SECRET"
    ]
    assert len(keys) == len(set(keys)) == len(SERVICES)


# --- docker compose


def _required_variables(value: object) -> list[str]:
    """The variables of `${NAME:?message}` in a value (compose refuses to start while NAME is unset or empty)."""
    return _REQUIRED.findall(str(value))


@pytest.mark.parametrize("name", SERVICES)
def test_compose_takes_every_secret_from_a_required_variable(name: str) -> None:
    environment = compose()["services"][name]["environment"]
    for variable in secret_variables(name):
        value = str(environment.get(variable))
        (required,) = _required_variables(value)
        # The variable itself, or one per service (COMPANY_PAGE_TOKEN_SECRET): the whole value is the secret.
        assert required in (variable, f"{name.upper()}_{variable}") and value.startswith("${"), (name, value)


def test_each_service_has_its_own_page_token_key_in_compose() -> None:
    services = compose()["services"]
    keys = [_required_variables(services[name]["environment"]["PAGE_TOKEN_SECRET"])[0] for name in SERVICES]
    assert len(set(keys)) == len(SERVICES)


def test_the_secret_variables_are_documented_in_env_example_and_env_is_never_committed_nor_built() -> None:
    required = set(_REQUIRED.findall((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assigned = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    assert set(assigned) == required
    assert all(value == "" for value in assigned.values()), "the example must hold no usable secret"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False, timeout=30)
    assert ignored.returncode == 0, ".env is not git-ignored"
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()


# --- the service process


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_in_production_mode_with_dev_secrets_refuses_to_start(name: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() not in env_fields(SERVICES[name])}
    env["AUTH_JWKS_URL"] = "https://keycloak.example.com/realms/r/protocol/openid-connect/certs"
    result = subprocess.run(
        [sys.executable, "-m", f"{name}_service.main"],
        cwd=tmp_path,  # no `.env` here, and the SQLite file it would create lands here
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    # One line for the operator, no traceback.
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"devinsider-{name}-service: refusing to start:") and "AUTH_JWKS_URL" in line, line
    for variable in secret_variables(name):
        assert variable in line
    assert not (tmp_path / "var").exists(), "it touched its database before refusing"

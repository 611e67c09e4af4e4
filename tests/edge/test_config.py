"""The generator on the real descriptor set: configs Envoy accepts, policies read from the protos."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_common.grpc.server import MAX_METADATA_BYTES
from devinsider_common.testing.services import SUITE_SERVICES
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
    assert sorted(SUITE_SERVICES.values()) == ALL  # every service of the suite, nothing else
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
    # The JWKS server's certificate is verified: the system's CAs by default, and the URL's host name.
    (jwks,) = (c for c in config["static_resources"]["clusters"] if c["name"] == "jwks")
    tls = jwks["transport_socket"]["typed_config"]
    assert tls["sni"] == "kc"
    assert tls["common_tls_context"]["validation_context"] == {
        "trusted_ca": {"filename": "/etc/ssl/certs/ca-certificates.crt"},
        "match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": "kc"}}],
    }


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


def test_service_clusters_tolerate_one_slow_check_and_have_room_to_retry(tmp_path: Path) -> None:
    config = _generate(tmp_path, ["devinsider.user.v1.UserService"], "--no-docs", "--health-check-interval", "2")
    (cluster,) = [c for c in config["static_resources"]["clusters"] if "UserService" in c["name"]]
    (check,) = cluster["health_checks"]
    assert (check["unhealthy_threshold"], check["timeout"], check["interval"]) == (2, "2.000s", "2.000s")
    (thresholds,) = cluster["circuit_breakers"]["thresholds"]
    # Not Envoy's default of 3 concurrent retries: a killed replica under load needs more at once.
    assert thresholds["retry_budget"]["min_retry_concurrency"] >= 16


def test_upstream_for_an_unknown_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not in the descriptor set"):
        cli.main(
            ["--descriptor-set", str(DESCRIPTOR_SET), "--upstream", "no.Such=1.2.3.4:1", "--out", str(tmp_path / "x")]
        )


def test_metrics_port_adds_a_stats_listener_that_only_forwards_get_metrics(tmp_path: Path) -> None:
    config = _generate(
        tmp_path, ALL, "--no-docs", "--admin-port", "9902", "--metrics-port", "9901", "--metrics-address", "10.0.0.7"
    )
    assert config["admin"]["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 9902}
    listeners = {listener["name"]: listener for listener in config["static_resources"]["listeners"]}
    assert set(listeners) == {"edge", "stats"}
    assert listeners["stats"]["address"]["socket_address"] == {"address": "10.0.0.7", "port_value": 9901}
    manager = listeners["stats"]["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["normalize_path"] and manager["merge_slashes"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    forwarded = [r for r in routes if "route" in r]
    assert len(forwarded) == 1
    assert forwarded[0]["match"]["path"] == "/metrics"
    assert forwarded[0]["route"] == {"cluster": "envoy_admin", "prefix_rewrite": "/stats/prometheus", "timeout": "10s"}
    assert routes[-1]["direct_response"]["status"] == 404
    admin = next(c for c in config["static_resources"]["clusters"] if c["name"] == "envoy_admin")
    assert admin["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 9902,
    }


def test_no_stats_listener_by_default_and_a_clash_with_the_admin_port_is_refused(tmp_path: Path) -> None:
    config = _generate(tmp_path, ALL, "--no-docs")
    assert [listener["name"] for listener in config["static_resources"]["listeners"]] == ["edge"]
    assert "envoy_admin" not in {c["name"] for c in config["static_resources"]["clusters"]}
    with pytest.raises(SystemExit, match="--metrics-port 9901 is taken"):
        _generate(tmp_path, ALL, "--no-docs", "--metrics-port", "9901")


def test_upstream_streams_per_connection_can_be_capped(tmp_path: Path) -> None:
    def http2_settings(config: dict[str, Any]) -> list[dict[str, Any]]:
        key = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        return [
            c["typed_extension_protocol_options"][key]["explicit_http_config"]["http2_protocol_options"]
            for c in config["static_resources"]["clusters"]
        ]

    # By default a few streams a connection, so that the calls reach every worker process of a service.
    assert http2_settings(_generate(tmp_path, ALL, "--no-docs")) == [{"max_concurrent_streams": 4}] * len(ALL)
    capped = _generate(tmp_path, ALL, "--no-docs", "--upstream-max-streams", "8")
    assert http2_settings(capped) == [{"max_concurrent_streams": 8}] * len(ALL)
    assert http2_settings(_generate(tmp_path, ALL, "--no-docs", "--upstream-max-streams", "0")) == [{}] * len(ALL)


def test_grpc_stats_per_method_with_whole_service_names_as_labels(tmp_path: Path) -> None:
    config = _generate(tmp_path, ALL, "--no-docs", "--jwt-issuer", "http://issuer", "--jwks-file", _jwks(tmp_path))
    names = [f["name"] for f in _manager(config)["http_filters"]]
    # After the transcoder (the call is gRPC by then), before the JWT filter and the router.
    assert names.index("envoy.filters.http.grpc_json_transcoder") < names.index("envoy.filters.http.grpc_stats")
    assert names.index("envoy.filters.http.grpc_stats") < names.index("envoy.filters.http.jwt_authn")
    stats = _filter(config, "envoy.filters.http.grpc_stats")
    assert stats["enable_upstream_stats"] and "stats_for_all_methods" not in stats
    listed = {s["name"]: s["method_names"] for s in stats["individual_method_stats_allowlist"]["services"]}
    assert set(listed) == set(ALL)
    assert "GetMe" in listed["devinsider.user.v1.UserService"]
    assert "CheckUserAccess" not in listed["devinsider.user.v1.UserService"]  # service-only: never routed
    tags = {t["tag_name"]: t.get("regex") for t in config["stats_config"]["stats_tags"]}
    assert config["stats_config"]["use_all_default_tags"] is False
    assert tags["envoy.cluster_name"] is None  # Envoy's own extractor, kept

    name = "cluster.devinsider_user_v1_UserService.grpc.devinsider.user.v1.UserService.GetMe.16"
    values = {tag: re.match(regex, name) for tag, regex in tags.items() if regex}
    assert {tag: m.group(2) for tag, m in values.items() if m} == {
        "grpc_service": "devinsider.user.v1.UserService",
        "grpc_method": "GetMe",
        "grpc_code": "16",
    }


def test_edge_jwt_verification_is_cached_per_token(tmp_path: Path) -> None:
    config = _generate(tmp_path, ALL, "--no-docs", "--jwt-issuer", "http://issuer", "--jwks-file", _jwks(tmp_path))
    provider = _filter(config, "envoy.filters.http.jwt_authn")["providers"]["idp"]
    assert provider["jwt_cache_config"]["jwt_cache_size"] > 0


def test_each_webhook_has_its_own_route_with_a_bucket_per_client_address(tmp_path: Path) -> None:
    config = _generate(tmp_path, ALL, "--no-docs", "--rate-limit-per-second", "7", "--rate-limit-sources", "500")
    routes = _manager(config)["route_config"]["virtual_hosts"][0]["routes"]
    limited = {
        r["match"]["prefix"]: r["typed_per_filter_config"]["envoy.filters.http.local_ratelimit"]
        for r in routes
        if "envoy.filters.http.local_ratelimit" in r.get("typed_per_filter_config", {})
    }
    assert set(limited) == {"/v1/webhooks/keycloak", "/v1/webhooks/payments"}  # every binding under /v1/webhooks/
    for limit in limited.values():
        assert limit["rate_limits"] == [{"actions": [{"remote_address": {}}]}]
        (descriptor,) = limit["descriptors"]
        assert descriptor["entries"] == [{"key": "remote_address", "value": ""}]  # a bucket per address seen
        assert descriptor["token_bucket"]["tokens_per_fill"] == 7
        assert limit["max_dynamic_descriptors"] == 500
        assert limit["always_consume_default_token_bucket"] is False  # no bucket shared by every address
    assert len({limit["stat_prefix"] for limit in limited.values()}) == 2


def test_the_client_address_is_the_peer_unless_proxies_are_trusted(tmp_path: Path) -> None:
    manager = _manager(_generate(tmp_path, ALL, "--no-docs"))
    assert manager["use_remote_address"] is True and manager["xff_num_trusted_hops"] == 0
    assert "internal_address_config" not in manager  # Envoy 1.40: no client is internal
    behind_a_balancer = _manager(_generate(tmp_path, ALL, "--no-docs", "--trusted-proxy-hops", "1"))
    assert behind_a_balancer["xff_num_trusted_hops"] == 1


def test_the_services_accept_all_the_metadata_the_edge_forwards(tmp_path: Path) -> None:
    """The edge caps the request line and headers; a request within the cap reaches a service with its
    headers plus Envoy's copy of the URL (x-envoy-original-path) and a few headers of Envoy's own."""
    manager = _manager(_generate(tmp_path, ALL, "--no-docs"))
    edge_cap = manager["max_request_headers_kb"] * 1024
    assert edge_cap == 16 * 1024
    assert 2 * edge_cap + 8 * 1024 <= MAX_METADATA_BYTES

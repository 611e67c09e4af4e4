"""What the deployment checks compare with: the services' settings classes (as environment variables),
the Kubernetes manifests, docker-compose.yml and the gateway generator script."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import yaml
from pydantic_settings import BaseSettings

from billing_service.settings import BillingSettings
from company_service.settings import CompanySettings
from contact_service.settings import ContactSettings
from devinsider_common.settings import ServiceSettings
from investor_service.settings import InvestorSettings
from matching_service.settings import MatchingSettings
from notification_service.settings import NotificationSettings
from program_service.settings import ProgramSettings
from user_service.settings import UserSettings

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

# Every service of the suite and its settings class (the services/ folders are checked against it).
SERVICES: dict[str, type[ServiceSettings]] = {
    "user": UserSettings,
    "company": CompanySettings,
    "investor": InvestorSettings,
    "program": ProgramSettings,
    "matching": MatchingSettings,
    "billing": BillingSettings,
    "contact": ContactSettings,
    "notification": NotificationSettings,
}

# Variables of the OpenTelemetry SDK given to every service (devinsider_common.tracing reads them, no settings
# class does): empty in compose and the shared ConfigMap, tracing stays off until an operator sets them.
TRACING_VARIABLES = frozenset({"OTEL_EXPORTER_OTLP_ENDPOINT"})


@dataclass(frozen=True)
class EnvField:
    """One setting as the environment names it (`AUTH_ISSUER`), with its default."""

    name: str
    attribute: str  # the field on its class (`issuer`)
    owner: type[BaseSettings]
    default: Any


def env_fields(settings: type[BaseSettings]) -> dict[str, EnvField]:
    """Every environment variable `settings` reads: its fields under its `env_prefix`, and the fields of
    nested settings classes (AuthSettings, BrokerSettings) under their own prefix, since each reads its
    own variables when the parent builds it."""
    config = settings.model_config
    # A delimiter (AUTH__ISSUER) or aliases would name the variables differently: this model would be wrong.
    assert not config.get("env_nested_delimiter"), settings
    prefix = str(config.get("env_prefix") or "")
    fields: dict[str, EnvField] = {}
    for attribute, info in settings.model_fields.items():
        assert info.alias is None and info.validation_alias is None, (settings, attribute)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            fields.update(env_fields(annotation))
            continue
        name = f"{prefix}{attribute}".upper()
        fields[name] = EnvField(name, attribute, settings, info.get_default(call_default_factory=True))
    return fields


def own_env_fields(settings: type[ServiceSettings]) -> dict[str, EnvField]:
    """The variables a service's class declares itself (new fields and redefined defaults)."""
    declared = set(vars(settings).get("__annotations__", {}))
    return {name: field for name, field in env_fields(settings).items() if field.attribute in declared}


def render_default(value: Any) -> str:
    """A default as an operator would write the variable: JSON for lists and maps, `true`/`false`,
    whole floats without `.0`, paths as text, the empty string as `""`."""
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


@contextmanager
def environment(settings: type[BaseSettings], values: dict[str, str]) -> Iterator[None]:
    """os.environ with exactly `values` for the variables `settings` reads (the others untouched)."""
    with mock.patch.dict(os.environ):
        for name in env_fields(settings):
            os.environ.pop(name, None)
            os.environ.pop(name.lower(), None)
        os.environ.update(values)
        yield


def load_settings(settings: type[ServiceSettings], values: dict[str, str]) -> ServiceSettings:
    """The settings a pod with these variables gets (no `.env` file: the image has none)."""
    with environment(settings, values):
        return settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings' init-only option


# --- manifests


@dataclass(frozen=True)
class Manifest:
    path: Path
    index: int
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(KUBERNETES)}#{self.index}:{self.kind}/{self.name}"


def manifest_files() -> list[Path]:
    return sorted(p for p in KUBERNETES.rglob("*.yaml") if p.name != "kustomization.yaml")


def load_manifests() -> list[Manifest]:
    found = []
    for path in manifest_files():
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
        found += [Manifest(path, index, doc) for index, doc in enumerate(docs)]
    return found


def find(manifests: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    (doc,) = (m.doc for m in manifests if m.kind == kind and m.name == name)
    return doc


def container_env(manifests: list[Manifest], deployment: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The environment of the Deployment's (single) container by source: `configmap/<name>`,
    `secret/<name>` and `env`, each mapping variable -> value (a secretKeyRef reads the Secret's value)."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    sources: dict[str, dict[str, str]] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            sources[f"configmap/{name}"] = dict(find(manifests, "ConfigMap", name)["data"])
        else:
            name = source["secretRef"]["name"]
            sources[f"secret/{name}"] = dict(find(manifests, "Secret", name)["stringData"])
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = str(find(manifests, "Secret", ref["name"])["stringData"][ref["key"]])
    sources["env"] = env
    return sources


def merged_env(sources: dict[str, dict[str, str]]) -> dict[str, str]:
    """What the container sees: envFrom in order, then `env` on top (Kubernetes' precedence)."""
    merged: dict[str, str] = {}
    for values in sources.values():
        merged.update(values)
    return merged


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return document


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py (a script, not a package: loaded from its file)."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def gateway_script() -> ModuleType:
    """scripts/gen_kubernetes_gateway.py."""
    return load_script("gen_kubernetes_gateway")

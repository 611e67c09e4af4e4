"""What the monitoring checks share: the files of deploy/monitoring, promtool (Debian's `prometheus` package,
installed when absent), the PromQL of the rules and the dashboard, and the metrics that really exist: those
the services register (devinsider_common.metrics' registry) and those a real Envoy on the generated edge
config serves."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULES = MONITORING / "prometheus" / "rules.yaml"
RULES_TEST = MONITORING / "prometheus" / "rules_test.yaml"
PROMETHEUS_CONFIG = MONITORING / "prometheus" / "prometheus.yaml"
DASHBOARD = MONITORING / "grafana" / "devinsider.json"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
COMPOSE = ROOT / "docker-compose.yml"
DESCRIPTOR_SET = ROOT / "gen" / "devinsider.binpb"

# Labels Prometheus adds to every scraped series (compose: prometheus.yaml; Kubernetes: the operator's
# relabelling), which a rule may select on.
TARGET_LABELS = frozenset({"instance", "job"})
# What docker-compose.yml runs besides the services.
INFRASTRUCTURE = frozenset({"postgres", "redis", "rabbitmq", "edge"})


# --- promtool ---------------------------------------------------------------------------------------------------


def promtool() -> str:
    """promtool from Debian's `prometheus` package, installed when absent; a failure to get it fails under
    CI=true and skips elsewhere."""
    found = shutil.which("promtool")
    if found:
        return found
    output = "apt-get is not available"
    if shutil.which("apt-get"):
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        # Another test (or .ci/run) may hold dpkg's lock: wait for it rather than fail.
        lock = ["-o", "DPkg::Lock::Timeout=300"]
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *lock, "prometheus"]
        print("monitoring: installing promtool (prometheus)", flush=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:  # a fresh machine has no package lists yet
            subprocess.run(["apt-get", "update", "-qq", *lock], env=env, capture_output=True, check=False)
            done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        output = done.stdout + done.stderr
        found = shutil.which("promtool")
        if found:
            return found
    message = f"promtool is missing and `apt-get install prometheus` did not provide it: {output[-2000:]}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_promtool(tool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


# --- The rules and the dashboard ----------------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rules() -> list[dict[str, Any]]:
    """Every rule of rules.yaml, recording and alerting, in file order."""
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recorded() -> dict[str, str]:
    """Recording rule name -> its expression."""
    return {rule["record"]: rule["expr"] for rule in rules() if "record" in rule}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def dashboard_panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those nested in collapsed rows included."""
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_exprs(board: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard_panels(board) for target in panel.get("targets", [])]


def all_exprs() -> list[str]:
    return [rule["expr"] for rule in rules()] + dashboard_exprs(dashboard())


# --- PromQL: the series an expression selects -----------------------------------------------------------------------

KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
# Aggregations may be followed by `by (...)` before their parenthesis: never a metric here.
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}
)
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      |(?P<braces>\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})
      |(?P<range>\[[^\]]*\])
      |(?P<number>\d[0-9A-Za-z_.]*)
      |(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
      |(?P<open>\()
      |(?P<other>\S)""",
    re.VERBOSE,
)
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str


@dataclass
class Selector:
    metric: str
    matchers: list[Matcher] = field(default_factory=list)


def parse_matchers(braces: str) -> list[Matcher]:
    inner = braces[1:-1].strip()
    found: list[Matcher] = []
    position = 0
    while position < len(inner):
        match = _MATCHER.match(inner, position)
        if match is None:
            raise ValueError(f"cannot read the label matchers {braces!r}")
        found.append(Matcher(match.group(1), match.group(2), match.group(3)))
        position = match.end()
    return found


def selectors(expr: str) -> list[Selector]:
    """The vector selectors of `expr` (metric name and label matchers): every name that is not a function,
    a keyword or a label of a grouping clause. A selector without a metric name is refused."""
    tokens = [(m.lastgroup or "", m.group()) for m in _TOKEN.finditer(expr)]
    found: list[Selector] = []
    index = 0
    while index < len(tokens):
        kind, text = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else ("", "")
        if kind == "braces":
            raise ValueError(f"a selector without a metric name in {expr!r}")
        if kind == "name" and text in GROUPING:
            assert following[0] == "open", f"{text} without its label list in {expr!r}"
            while tokens[index][1] != ")":  # skip the label list
                index += 1
        elif kind == "name" and text.lower() not in KEYWORDS | AGGREGATIONS and following[0] != "open":
            selector = Selector(text)
            if following[0] == "braces":
                selector.matchers = parse_matchers(following[1])
                index += 1
            found.append(selector)
        index += 1
    return found


def raw_metrics(name: str, records: dict[str, str]) -> set[str]:
    """The scraped metrics a series is computed from: itself, or those its recording rule reads (recursively)."""
    if name not in records:
        return {name}
    return {raw for selector in selectors(records[name]) for raw in raw_metrics(selector.metric, records)}


def grouping_labels(expr: str) -> frozenset[str] | None:
    """The labels an expression of the form `<aggregation> by (a, b) (...)` keeps; None for other shapes."""
    match = re.match(r"\s*\w+\s+by\s*\(([^)]*)\)", expr)
    if match is None:
        return None
    return frozenset(label.strip() for label in match.group(1).split(",") if label.strip())


# --- The metrics that exist -------------------------------------------------------------------------------------


@dataclass
class Known:
    """Exported sample name -> its label names, and the values some labels can take (None: not checked)."""

    labels: dict[str, frozenset[str]] = field(default_factory=dict)
    values: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, name: str, labels: frozenset[str]) -> None:
        self.labels[name] = self.labels.get(name, frozenset()) | labels


_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}


def service_metrics() -> Known:
    """The samples the services export: the shared registry (gRPC, outbox, consumers, process) with the user
    service's reconciliation metrics, which register themselves on import. Label values are checked against
    the code where it enumerates them: gRPC codes, the services' names, and the values a metric's help text
    lists (outcomes, states, kinds)."""
    from devinsider_common import metrics
    from user_service.entrypoints import reconciliation_job

    assert reconciliation_job.RUNS is not None  # imported for its registrations
    known = Known()
    registry: CollectorRegistry = metrics.REGISTRY
    collectors = list(registry._collector_to_names)  # the registry has no public list of its collectors
    for collector in collectors:
        label_names = frozenset(getattr(collector, "_labelnames", ()))
        families = list(collector.describe()) if hasattr(collector, "describe") else []
        families += list(collector.collect())
        for family in families:
            names = {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
            own = label_names | frozenset(getattr(family, "_labelnames", ()))
            for sample in family.samples:
                names.add(sample.name)
                own |= frozenset(sample.labels)
            for name in names:
                extra = frozenset({"le"}) if name.endswith("_bucket") else frozenset()
                known.add(name, own | extra)
                for label in own:
                    words = set(re.findall(r"\b[a-z_]+\b", family.documentation))
                    known.values.setdefault((name, label), set()).update(words)
    codes = {code.name for code in grpc.StatusCode}
    services = deployed_services()
    for name, label_names in known.labels.items():
        if "grpc_code" in label_names:
            known.values[(name, "grpc_code")] = codes
        if "service" in label_names:
            known.values[(name, "service")] = services
        for label in ("grpc_service", "grpc_method", "grpc_type", "queue", "le"):
            known.values.pop((name, label), None)  # open-ended
    return known


def deployed_services() -> set[str]:
    """The services compose runs (docker-compose.yml, kept equal to deploy/kubernetes by tests/deploy): their
    names are the `service` label of their metrics (SERVICE_NAME) and `devinsider.<name>.v1` their packages."""
    return set(load_yaml(COMPOSE)["services"]) - INFRASTRUCTURE


_SAMPLE = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? \S+")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str) -> Known:
    """Every sample name of a Prometheus text exposition, with its labels and their values."""
    known = Known()
    for line in text.splitlines():
        match = _SAMPLE.fullmatch(line.strip())
        if line.startswith("#") or match is None:
            continue
        labels = dict(_LABEL.findall(match.group(2) or ""))
        known.add(match.group(1), frozenset(labels))
        for label, value in labels.items():
            known.values.setdefault((match.group(1), label), set()).add(value)
    return known


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local Envoy
        return str(response.read().decode())

"""Every series the rules and the dashboard select exists: a metric the services register or one a real Envoy
serves on the edge's config, or a recording rule; with labels the metric has and, where the values are known
(Envoy's, gRPC codes, the services' names, the outcomes and states a metric's help lists), values it takes."""

from __future__ import annotations

import re

import pytest

from .support import (
    TARGET_LABELS,
    Known,
    Matcher,
    Selector,
    all_exprs,
    deployed_services,
    grouping_labels,
    raw_metrics,
    recorded,
    selectors,
    service_metrics,
)


@pytest.fixture(scope="module")
def services() -> Known:
    return service_metrics()


def test_the_selector_reader_finds_metrics_and_matchers_and_skips_the_rest() -> None:
    expr = (
        'sum by (grpc_service, le) (rate(grpc_server_handling_seconds_bucket{grpc_code=~"A|B", le!="1"}[5m]))'
        " / on () group_left (x) max without (instance) (up offset 3h) > bool 0.5e3"
        ' and time() - max(foo:bar:baz{state="dead"} > 0) unless absent(nothing{a="}"})'
    )
    assert selectors(expr) == [
        Selector("grpc_server_handling_seconds_bucket", [Matcher("grpc_code", "=~", "A|B"), Matcher("le", "!=", "1")]),
        Selector("up"),
        Selector("foo:bar:baz", [Matcher("state", "=", "dead")]),
        Selector("nothing", [Matcher("a", "=", "}")]),
    ]
    with pytest.raises(ValueError, match="without a metric name"):
        selectors('rate({__name__="x"}[5m])')


def test_the_known_metrics_are_the_services_and_envoys(services: Known, envoy_metrics: Known) -> None:
    assert {"grpc_server_started_total", "grpc_server_handled_total", "grpc_server_handling_seconds_bucket"} <= set(
        services.labels
    )
    assert services.labels["grpc_server_handled_total"] == {"grpc_type", "grpc_service", "grpc_method", "grpc_code"}
    assert services.labels["devinsider_outbox_backlog"] == {"service"}
    assert "devinsider_user_keycloak_reconcile_last_success_timestamp_seconds" in services.labels
    assert services.values[("devinsider_consumer_messages_total", "outcome")] >= {
        "handled",
        "duplicate",
        "retried",
        "dead_lettered",
        "undecodable",
    }
    assert "envoy_cluster_membership_healthy" in envoy_metrics.labels
    assert len(envoy_metrics.labels) > 100


def _source(name: str, services: Known, envoy: Known) -> Known | None:
    if name in services.labels:
        return services
    if name in envoy.labels:
        return envoy
    return None


def test_every_selected_metric_exists(services: Known, envoy_metrics: Known) -> None:
    records = recorded()
    missing = {
        selector.metric
        for expr in all_exprs()
        for selector in selectors(expr)
        if selector.metric not in records and _source(selector.metric, services, envoy_metrics) is None
    }
    assert missing == set(), "neither exported by the services or Envoy nor recorded"


def test_every_matched_label_is_one_the_series_has(services: Known, envoy_metrics: Known) -> None:
    records = recorded()
    wrong: list[str] = []
    for expr in all_exprs():
        for selector in selectors(expr):
            if selector.metric in records:
                allowed = grouping_labels(records[selector.metric])
            else:
                source = _source(selector.metric, services, envoy_metrics)
                allowed = None if source is None else source.labels[selector.metric] | TARGET_LABELS
            wrong += [
                f"{selector.metric}{{{m.label}}}"
                for m in selector.matchers
                if allowed is not None and m.label not in allowed
            ]
    assert wrong == []


def _alternatives(matcher: Matcher) -> list[str] | None:
    """The values an `=` or a plain `a|b|c` regex matcher names; None for other regexes."""
    if matcher.op == "=":
        return [matcher.value]
    if matcher.op == "=~" and re.fullmatch(r"[\w.]+(\|[\w.]+)*", matcher.value):
        return matcher.value.split("|")
    return None


def _values(metric: str, label: str, services: Known, envoy: Known) -> set[str] | None:
    """The values `label` takes on `metric`, or on the scraped metrics of its recording rule; None: unknown."""
    found: set[str] | None = None
    for raw in raw_metrics(metric, recorded()):
        source = _source(raw, services, envoy)
        values = None if source is None else source.values.get((raw, label))
        if values is not None:
            found = (found or set()) | values
    return found


def test_every_matched_label_value_is_one_the_metric_takes(services: Known, envoy_metrics: Known) -> None:
    wrong: list[str] = []
    checked = 0
    for expr in all_exprs():
        for selector in selectors(expr):
            for matcher in selector.matchers:
                values = _values(selector.metric, matcher.label, services, envoy_metrics)
                if values is None or matcher.op.startswith("!"):
                    continue
                checked += 1
                names = _alternatives(matcher)
                if names is None:
                    if not any(re.fullmatch(matcher.value, value) for value in values):
                        wrong.append(f"{selector.metric}{{{matcher.label}=~{matcher.value!r}}} matches nothing")
                else:
                    wrong += [f"{selector.metric}{{{matcher.label}={v!r}}}" for v in names if v not in values]
    assert wrong == []
    assert checked >= 10  # the values of Envoy's labels, gRPC codes, states and outcomes, records included


def test_the_service_cluster_selector_matches_the_services_only(envoy_metrics: Known) -> None:
    clusters = envoy_metrics.values[("envoy_cluster_membership_healthy", "envoy_cluster_name")]
    services = {cluster for cluster in clusters if re.fullmatch("devinsider_.+", cluster)}
    assert {cluster.split("_")[1] for cluster in services} == deployed_services()
    assert clusters - services == {"jwks", "envoy_admin"}

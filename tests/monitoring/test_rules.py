"""deploy/monitoring/prometheus: the rules load (`promtool check rules`), pass their unit tests (`promtool test
rules`), every alert is tested firing and silent and every recording rule's value is checked, every alert has
a severity, a summary, a description and a runbook in docs/operations.md, and the compose scrape config loads
and scrapes the compose services' metrics ports."""

from __future__ import annotations

import re
from typing import Any

from .support import (
    COMPOSE,
    OPERATIONS_DOC,
    PROMETHEUS_CONFIG,
    RULES,
    RULES_TEST,
    alerts,
    load_yaml,
    recorded,
    rules,
    run_promtool,
)

SEVERITIES = {"critical", "warning"}


def test_promtool_checks_the_rules(tool: str) -> None:
    checked = run_promtool(tool, "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules())} rules found" in checked.stdout


def test_the_rules_pass_their_unit_tests(tool: str) -> None:
    tested = run_promtool(tool, "test", "rules", RULES_TEST.name, cwd=RULES_TEST.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def _unit_tests() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = load_yaml(RULES_TEST)["tests"]
    return loaded


def test_the_unit_tests_load_the_rules_file() -> None:
    assert load_yaml(RULES_TEST)["rule_files"] == [RULES.name]


def test_every_alert_is_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for case in _unit_tests():
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in alerts()}
    assert names - firing == set(), "never tested firing"
    assert names - silent == set(), "never tested silent"
    assert (firing | silent) - names == set(), "tests of alerts that do not exist"


def test_every_recording_rule_has_its_value_checked() -> None:
    checked = {check["expr"] for case in _unit_tests() for check in case.get("promql_expr_test", [])}
    used = {name for name in recorded() if any(re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", e) for e in checked)}
    assert set(recorded()) - used == set()


def test_rule_names_are_unique_and_recording_rules_follow_the_naming_convention() -> None:
    names = [rule.get("record") or rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))
    for name in recorded():  # level:metric:operations
        assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", name), name


def _doc_alerts_section() -> str:
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    return text.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]


def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook() -> None:
    section = _doc_alerts_section()
    for rule in alerts():
        name = rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert set(annotations) == {"summary", "description", "runbook_url"}, name
        assert annotations["summary"].strip() and annotations["description"].strip(), name
        anchor = f"alert-{name.lower()}"
        assert annotations["runbook_url"] == f"docs/operations.md#{anchor}", name
        assert f'<a id="{anchor}"></a>' in section, f"{name}: no runbook anchor {anchor} in docs/operations.md"


def test_the_operations_doc_lists_exactly_the_alerts() -> None:
    rows = re.findall(r'^\| <a id="alert-[a-z]+"></a>`(\w+)` \|', _doc_alerts_section(), re.MULTILINE)
    assert sorted(rows) == sorted(rule["alert"] for rule in alerts())


def test_promtool_checks_the_compose_scrape_config(tool: str) -> None:
    checked = run_promtool(tool, "check", "config", PROMETHEUS_CONFIG.name, cwd=PROMETHEUS_CONFIG.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_scrape_config_finds_every_compose_service_on_its_metrics_port() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    assert config["rule_files"] == [RULES.name]
    compose = load_yaml(COMPOSE)
    targets: set[str] = set()
    for job in config["scrape_configs"]:
        assert job["metrics_path"] == "/metrics"
        for discovery in job["dns_sd_configs"]:
            assert discovery["port"] == 9100
            targets.update(discovery["names"])
    assert targets == set(compose["services"]) - {"postgres", "redis", "rabbitmq"}
    assert compose["x-service-env"]["METRICS_PORT"] == "9100"  # the services; the edge: --metrics-port 9100
    assert "--metrics-port 9100" in (COMPOSE.parent / "Dockerfile").read_text(encoding="utf-8")

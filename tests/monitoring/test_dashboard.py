"""deploy/monitoring/grafana/devinsider.json: a dashboard Grafana imports (uid, title, a Prometheus datasource
variable, rows and panels with unique ids on a grid that does not overlap, queries on that datasource), whose
queries are PromQL that promtool accepts."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .support import dashboard, dashboard_exprs, dashboard_panels, run_promtool

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
ROWS = ["Edge", "gRPC services", "Outbox", "Consumers", "Keycloak reconciliation"]


def test_the_dashboard_has_its_identity_and_a_prometheus_datasource_variable() -> None:
    board = dashboard()
    assert board["uid"] == "devinsider-overview"
    assert board["title"]
    assert isinstance(board["schemaVersion"], int)
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_panels_have_unique_ids_and_fit_the_grid_without_overlapping() -> None:
    panels = list(dashboard_panels(dashboard()))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert all(isinstance(grid[key], int) for key in ("x", "y", "w", "h")), panel["title"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        columns = range(grid["x"], grid["x"] + grid["w"])
        cells = {(x, y) for x in columns for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_the_rows_are_the_edge_the_services_the_outbox_the_consumers_and_keycloak() -> None:
    rows = [panel["title"] for panel in dashboard()["panels"] if panel["type"] == "row"]
    assert len(rows) == len(ROWS)
    for title, expected in zip(rows, ROWS, strict=True):
        assert title.startswith(expected)


def test_every_panel_queries_the_selected_prometheus() -> None:
    for panel in dashboard_panels(dashboard()):
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel["type"] in {"timeseries", "stat"}, panel["title"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        targets = panel["targets"]
        assert targets, panel["title"]
        assert len({target["refId"] for target in targets}) == len(targets), panel["title"]
        for target in targets:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
            # Plain PromQL (no Grafana variable), so that promtool can check it.
            assert "$" not in target["expr"], panel["title"]


def test_the_service_rows_read_the_recording_rules() -> None:
    exprs = dashboard_exprs(dashboard())
    for name in (
        "grpc_service:grpc_server_started:rate5m",
        "grpc_service:grpc_server_handled:error_ratio5m",
        "grpc_service:grpc_server_handling_seconds:p99_5m",
    ):
        assert any(re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", expr) for expr in exprs), name


def test_promtool_accepts_every_dashboard_query(tool: str, tmp_path: Path) -> None:
    """promtool has no query checker: each query becomes a recording rule of a throwaway rules file."""
    exprs = dashboard_exprs(dashboard())
    group = {"name": "dashboard", "rules": [{"record": f"dashboard:query:{i}", "expr": e} for i, e in enumerate(exprs)]}
    path = tmp_path / "dashboard_rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [group]}), encoding="utf-8")
    checked = run_promtool(tool, "check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in checked.stdout

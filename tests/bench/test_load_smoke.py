"""The load bench, quick: it starts the suite, seeds it, drives every phase, and its report is complete
with no failed call. Figures are not checked (the CPU is shared): only that the bench works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PHASES = {
    "echo REST via Envoy",
    "echo direct gRPC",
    "mix REST via Envoy",
    "mix direct gRPC",
    "mix REST via Envoy (2x company)",
    "mix direct gRPC (2x company)",
}
OPERATIONS = {
    "GetCompany",
    "ListCompanies",
    "ListCompanyMatches",
    "GetMe",
    "ListPrograms",
    "UpdateCompany",
    "CreateUnlock",
}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.slow
def test_quick_load_bench_reports_every_phase_without_errors(
    quick_run: Callable[[str], tuple[dict[str, Any], str]],
) -> None:
    report, stdout = quick_run("bench.load")
    assert set(report["phases"]) == PHASES
    for name, phase in report["phases"].items():
        overall = phase["overall"]
        assert overall["requests"] > 0 and overall["rps"] > 0, name
        assert overall["failed"] == 0 and phase["errors"] == {}, (name, phase["errors"])
        assert overall["p50_ms"] <= overall["p99_ms"], name
        assert set(report["ratios"][name]) == {"throughput", "p50", "p99"}
        if name.startswith("mix"):
            assert set(phase["operations"]) == OPERATIONS, name
            assert all(op["failed"] == 0 for op in phase["operations"].values()), name
    assert len(report["comparisons"]) == 3
    assert all(set(r) == {"throughput", "p50", "p99"} for r in report["comparisons"].values())
    # The markdown table went to stdout too.
    assert "| mix REST via Envoy |" in stdout and "| comparison |" in stdout

"""The suite bench (`make bench`), quick: it starts the suite, seeds it, measures every target over both
transports and counts their database round trips, with no error. Figures are not checked (the CPU is
shared): only that the bench works and reports what it claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bench.suite.run import _selected

READS = {
    "GetCompany (owner)",
    "GetCompany (stranger)",
    "GetCompany (unlocker)",
    "ListCompanies (industry+country)",
    "ListCompanyMatches",
    "GetMe",
    "GetCreditBalance",
}
WRITES = {"UpdateCompany", "CreateUnlock", "CreateFavorite"}
TRANSPORTS = {"direct gRPC", "REST via Envoy"}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.slow
def test_quick_suite_bench_measures_every_target_without_errors(
    quick_run: Callable[[str], tuple[dict[str, Any], str]],
) -> None:
    report, stdout = quick_run("bench.suite")
    rows = {(r["target"], r["transport"], r["tool"]): r for r in report["rows"]}
    expected = {(t, tr, "h2load") for t in READS | {"echo"} for tr in TRANSPORTS}
    expected |= {(t, tr, "driver") for t in WRITES | {"echo"} for tr in TRANSPORTS}
    assert set(rows) == expected
    for key, row in rows.items():
        assert row["result"]["requests"] > 0 and row["result"]["rps"] > 0, key
        assert row["failed"] == 0 and row["errors"] == {}, (key, row["errors"])
        assert row["result"]["p50_ms"] <= row["result"]["p99_ms"], key
        if key[0] != "echo":
            assert row["round_trips"]["calls"] > 0, key
    trips = {t: rows[t, "direct gRPC", tool]["round_trips"]["per_call"] for t, _, tool in expected if t != "echo"}
    assert all(trips[w] > 0 for w in WRITES), trips  # a write reaches the database
    assert sum(trips[r] for r in READS) > 0, trips  # and (some) reads do
    assert {g["goal"] for g in report["goals"]} >= {"hot read ≤ 1 DB round trip when warm"}
    assert "| GetCompany (owner) | direct gRPC |" in stdout and "| CreateUnlock | REST via Envoy |" in stdout


def test_only_selects_services_operations_or_targets() -> None:
    assert _selected("GetCompany (owner)", "company", "")
    assert _selected("GetCompany (owner)", "company", "company")
    assert _selected("GetCompany (owner)", "company", "billing,GetCompany")
    assert _selected("GetCompany (owner)", "company", "getcompany (owner)")
    assert not _selected("ListCompanies (industry+country)", "company", "GetCompany")
    assert not _selected("GetMe", "user", "company")

"""How many workers a service runs, and which of them runs the scheduled jobs (that `serve` asks it is
shown end to end by test_supervisor.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devinsider_common import workers
from devinsider_common.settings import ServiceSettings

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000\n", 8), ("150000 100000\n", 2), ("50000 100000\n", 1), ("800000 100000\n", 8), (None, 8)],
)
def test_available_cores_is_the_affinity_capped_by_the_cgroup_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpu_max: str | None, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max)
    assert workers.available_cores(path) == expected


def test_workers_default_to_the_cores_and_sqlite_runs_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "available_cores", lambda: 6)
    assert workers.worker_count(ServiceSettings(database_url=PG)) == 6
    assert workers.worker_count(ServiceSettings(database_url=PG, workers=3)) == 3
    assert workers.worker_count(ServiceSettings(database_url="", workers=3)) == 1  # the embedded SQLite file
    assert workers.worker_count(ServiceSettings(database_url="sqlite+pysqlite:///x.db")) == 1


def test_workers_setting_is_bounded() -> None:
    with pytest.raises(ValueError, match="workers"):
        ServiceSettings(workers=-1)
    with pytest.raises(ValueError, match="workers"):
        ServiceSettings(workers=65)


@pytest.mark.parametrize(("worker", "runs"), [(None, True), ("0", True), ("1", False), ("3", False)])
def test_only_a_lone_process_or_worker_0_runs_the_jobs(
    monkeypatch: pytest.MonkeyPatch, worker: str | None, runs: bool
) -> None:
    if worker is None:
        monkeypatch.delenv(workers.WORKER_ENV, raising=False)
    else:
        monkeypatch.setenv(workers.WORKER_ENV, worker)
    assert workers.runs_jobs_here() is runs


def test_a_service_that_must_run_alone_runs_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_service.settings import BillingSettings

    monkeypatch.setattr(workers, "available_cores", lambda: 4)
    local = BillingSettings(database_url=PG, workers=2, payment_provider="local")
    assert local.single_process_reason() and workers.worker_count(local) == 1  # one port for its HTTP server
    remote = BillingSettings(
        database_url=PG, workers=2, payment_provider="http", payment_provider_url="https://p.example"
    )
    assert workers.worker_count(remote) == 2

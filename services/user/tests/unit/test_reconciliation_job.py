"""The reconciliation job's metrics: each run's outcome, the fixes, the last complete run's drift. No I/O."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from devinsider_common import errors
from devinsider_common.jobs import Job
from devinsider_common.metrics import REGISTRY
from devinsider_common.testing.tokens import principal
from user_service.domain.reconciliation import KeycloakAccount
from user_service.entrypoints.reconciliation_job import RECONCILIATION_JOB, reconciliation_job
from user_service.service_layer.ports import KeycloakRefused

from ..fakes import FakeKeycloak, World, world


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"devinsider_user_keycloak_reconcile_{name}", labels) or 0.0


def _job(w: World) -> Job:
    assert w.app.reconciliation is not None
    return reconciliation_job(w.app.reconciliation, 600.0)


def test_a_run_counts_its_outcome_fixes_and_drift() -> None:
    keycloak = FakeKeycloak(KeycloakAccount("kc-new", email="new@acme.io"))
    w = world(keycloak)
    w.app.users.me(principal("kc-gone"))
    w.app.users.me(principal("kc-off", email="kc-off@acme.io"))
    keycloak.put(KeycloakAccount("kc-off", email="kc-off@acme.io", enabled=False))
    w.clock.advance(seconds=1)
    job = _job(w)
    assert (job.name, job.interval_seconds, job.lock_timeout_seconds) == (RECONCILIATION_JOB, 600.0, 600.0)
    before = {kind: _metric("fixes_total", kind=kind) for kind in ("missing", "changed", "disabled", "absent")}
    completed = _metric("runs_total", outcome="completed")
    assert job.run() == 3
    assert _metric("runs_total", outcome="completed") == completed + 1
    assert [_metric("fixes_total", kind=kind) - before[kind] for kind in before] == [1, 0, 1, 1]
    assert [_metric("drift", kind=kind) for kind in before] == [1, 0, 1, 1]
    assert _metric("last_success_timestamp_seconds") > 0
    assert job.run() == 0 and [_metric("drift", kind=kind) for kind in before] == [0, 0, 0, 0]


def test_a_run_that_holds_its_deletions_says_so() -> None:
    w = world(FakeKeycloak(), keycloak_reconcile_max_deletions=0)
    w.app.users.me(principal("kc-gone"))
    w.clock.advance(seconds=1)
    held = _metric("runs_total", outcome="deletions_held")
    assert _job(w).run() == 0
    assert _metric("runs_total", outcome="deletions_held") == held + 1 and _metric("drift", kind="absent") == 1


def test_a_failed_run_is_counted_and_leaves_the_last_drift() -> None:
    keycloak = FakeKeycloak()
    w = world(keycloak)
    w.app.users.me(principal("kc-gone"))
    w.clock.advance(seconds=1)
    job = _job(w)
    job.run()
    keycloak.fail_at = 0
    failed, success = _metric("runs_total", outcome="failed"), _metric("last_success_timestamp_seconds")
    with pytest.raises(errors.Unavailable):
        job.run()
    assert _metric("runs_total", outcome="failed") == failed + 1
    assert _metric("drift", kind="absent") == 1 and _metric("last_success_timestamp_seconds") == success


def test_a_run_keycloak_refuses_says_so_apart_from_other_failures() -> None:
    keycloak = FakeKeycloak()
    w = world(keycloak)
    w.app.users.me(principal("kc-gone"))
    w.clock.advance(seconds=1)
    keycloak.fail_at, keycloak.fail_with = 0, KeycloakRefused
    refused, failed = _metric("runs_total", outcome="refused"), _metric("runs_total", outcome="failed")
    with capture_logs() as logs, pytest.raises(KeycloakRefused):
        _job(w).run()
    assert _metric("runs_total", outcome="refused") == refused + 1
    assert _metric("runs_total", outcome="failed") == failed
    assert [(e["event"], e["log_level"]) for e in logs] == [("keycloak.reconcile_refused", "error")]
    assert w.committed("users")[0].state.value == "active"  # nobody deleted

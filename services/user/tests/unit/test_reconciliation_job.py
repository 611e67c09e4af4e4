"""The reconciliation job's metrics: each run's outcome, the fixes, the last complete run's drift. No I/O."""

from __future__ import annotations

import pytest

from devinsider_common import errors
from devinsider_common.jobs import Job
from devinsider_common.metrics import REGISTRY
from devinsider_common.testing.tokens import principal
from user_service.domain.reconciliation import KeycloakAccount
from user_service.entrypoints.reconciliation_job import RECONCILIATION_JOB, reconciliation_job

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
    w.clock.advance(seconds=1)
    job = _job(w)
    assert (job.name, job.interval_seconds, job.lock_timeout_seconds) == (RECONCILIATION_JOB, 600.0, 600.0)
    before = {kind: _metric("fixes_total", kind=kind) for kind in ("missing", "changed", "absent")}
    completed = _metric("runs_total", outcome="completed")
    assert job.run() == 2
    assert _metric("runs_total", outcome="completed") == completed + 1
    assert [_metric("fixes_total", kind=kind) - before[kind] for kind in before] == [1, 0, 1]
    assert [_metric("drift", kind=kind) for kind in before] == [1, 0, 1]
    assert _metric("last_success_timestamp_seconds") > 0
    assert job.run() == 0 and [_metric("drift", kind=kind) for kind in before] == [0, 0, 0]


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

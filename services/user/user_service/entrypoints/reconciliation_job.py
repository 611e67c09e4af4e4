"""The reconciliation with Keycloak as a scheduled job (once across replicas), and its metrics.

A run that cannot list Keycloak to the end counts as failed (refused when Keycloak refuses the
service's credentials, which no retry mends) and leaves the drift gauge at the last complete run's
values; `..._last_success_timestamp_seconds` tells how old those are.
"""

from __future__ import annotations

import time

import structlog
from prometheus_client import Counter, Gauge

from devinsider_common.jobs import Job
from devinsider_common.metrics import REGISTRY
from user_service.domain.reconciliation import Drift
from user_service.service_layer.ports import KeycloakRefused
from user_service.service_layer.reconciliation import KeycloakReconciliation

log = structlog.get_logger("user.keycloak.reconciliation")

RECONCILIATION_JOB = "user-keycloak-reconciliation"

RUNS = Counter(
    "devinsider_user_keycloak_reconcile_runs_total",
    "Reconciliation runs with Keycloak, by outcome (completed, deletions_held: completed but more users "
    "were gone from Keycloak than a run may delete, failed: Keycloak could not be listed to the end, "
    "refused: Keycloak refused the service's credentials even with a fresh token).",
    ["outcome"],
    registry=REGISTRY,
)
FIXES = Counter(
    "devinsider_user_keycloak_reconcile_fixes_total",
    "Users the reconciliation corrected, by kind (missing: created, changed: updated, disabled: disabled or "
    "enabled again, absent: marked deleted).",
    ["kind"],
    registry=REGISTRY,
)
DRIFT = Gauge(
    "devinsider_user_keycloak_reconcile_drift",
    "Users out of step with Keycloak found by the last complete run, by kind (missing, changed, disabled, absent).",
    ["kind"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",  # under several workers (devinsider_common.workers) only worker 0 runs jobs
)
LAST_SUCCESS = Gauge(
    "devinsider_user_keycloak_reconcile_last_success_timestamp_seconds",
    "Unix time at which the last complete reconciliation run ended.",
    registry=REGISTRY,
    multiprocess_mode="max",
)


def reconciliation_job(reconciliation: KeycloakReconciliation, interval_seconds: float) -> Job:
    """The job; its lock is held an interval at most, so a replica that died in a run delays one run only."""

    def run() -> int:
        try:
            report = reconciliation.run()
        except KeycloakRefused as refused:
            RUNS.labels("refused").inc()
            log.error("keycloak.reconcile_refused", error=str(refused))
            raise
        except Exception:
            RUNS.labels("failed").inc()
            raise  # the job runner logs it; the next run starts again from the first page
        for kind in Drift:
            DRIFT.labels(kind.value).set(report.found[kind])
            FIXES.labels(kind.value).inc(report.fixed[kind])
        RUNS.labels("deletions_held" if report.deletions_held else "completed").inc()
        LAST_SUCCESS.set(time.time())
        return sum(report.fixed.values())

    return Job(RECONCILIATION_JOB, run, interval_seconds, lock_timeout_seconds=interval_seconds)

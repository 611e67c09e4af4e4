"""Scheduled jobs that run once across replicas (APScheduler in each process, a lock per run).

Every replica schedules the job; each run first takes a lock named after the job (Redis when
configured, in-process otherwise) without waiting, so when several replicas fire together one
does the work and the others skip. The job itself must stay correct if it ever ran twice
(database state transitions are guarded), the lock only saves the duplicate work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from devinsider_common import errors
from devinsider_common.locks import LockFactory

log = structlog.get_logger("devinsider.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], int]  # returns how many items it handled, for the log
    interval_seconds: float
    lock_timeout_seconds: float = 300.0


def run_once_across_replicas(job: Job, locks: LockFactory) -> int | None:
    """Run `job` if no other replica is running it; None when skipped."""
    try:
        with locks.lock(f"job:{job.name}", timeout_seconds=job.lock_timeout_seconds, blocking_timeout=0.0):
            handled = job.run()
    except errors.Conflict:
        log.info("job.skipped", job=job.name, reason="running elsewhere")
        return None
    except errors.Unavailable as error:  # Redis or the database away: the next run retries, no trace
        log.warning("job.skipped", job=job.name, reason=str(error))
        return None
    except Exception:
        log.exception("job.failed", job=job.name)
        return None
    if handled:
        log.info("job.done", job=job.name, handled=handled)
    return handled


def start_scheduler(jobs: list[Job], locks: LockFactory) -> Callable[[], None]:
    """Start the jobs in a background scheduler; returns the function that stops it."""
    scheduler = BackgroundScheduler(daemon=True)
    for job in jobs:
        scheduler.add_job(
            run_once_across_replicas,
            "interval",
            seconds=job.interval_seconds,
            args=(job, locks),
            id=job.name,
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    return lambda: scheduler.shutdown(wait=True)

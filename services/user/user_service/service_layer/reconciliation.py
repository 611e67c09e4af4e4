"""Reconciliation with Keycloak: the users its webhook events should have made, made from its admin API.

One run reads every user of the realm (`KeycloakDirectory.pages`) and, a user at a time (one
transaction each, so one conflict costs one user, not the run):
- creates the users missing here, as REGISTER would, but without the welcome mail (they may have
  registered long ago: the first run on an existing realm must not mail everyone),
- brings the others in step (`domain.reconciliation.follow_account`), unless a webhook event applied
  to them since their page was read (that event is newer than the page); a user Keycloak disables is
  marked disabled (refused by the access rule, `DISABLED`), as the admin UPDATE webhook event does,
- then, only once the listing completed, marks deleted the active users Keycloak no longer has, as
  the delete webhook does. A user is only taken for absent when it existed before the listing began,
  Keycloak answers 404 for it alone (offset pages shift when users are deleted during the listing),
  and the run would delete at most `max_deletions` (a listing of another realm, or an empty answer,
  must not delete everyone; 0: the run never deletes).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import structlog

from devinsider_common import errors
from devinsider_common.clock import as_utc
from devinsider_common.ids import new_id
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import DuplicateRecord
from user_service.domain.model import User, UserState
from user_service.domain.reconciliation import (
    Drift,
    KeycloakAccount,
    ReconciliationReport,
    drift_of,
    follow_account,
    user_from_account,
)
from user_service.service_layer.ports import Clock, KeycloakDirectory, UowFactory

log = structlog.get_logger("user.keycloak.reconciliation")

LOCAL_WINDOW = 500  # local users read per transaction when looking for the absent ones


class KeycloakReconciliation:
    def __init__(self, uow: UowFactory, clock: Clock, directory: KeycloakDirectory, max_deletions: int) -> None:
        self._uow = uow
        self._clock = clock
        self._directory = directory
        self._max_deletions = max_deletions

    def run(self) -> ReconciliationReport:
        """One run; `errors.Unavailable` when Keycloak cannot be listed to the end (nobody is deleted then)."""
        started = self._clock()
        report = ReconciliationReport()
        listed: set[str] = set()
        pages = iter(self._directory.pages())
        while True:
            observed_at = self._clock()  # taken before the page is read: the page is at least this recent
            page = next(pages, None)
            if page is None:
                break
            for account in page:
                listed.add(account.subject)
                self._follow(account, observed_at, report)
        report.listed = len(listed)
        self._delete_absent(listed, started, report)
        log.info(
            "keycloak.reconciled",
            listed=report.listed,
            found=dict(report.found),
            fixed=dict(report.fixed),
            deletions_held=report.deletions_held,
        )
        return report

    def _follow(self, account: KeycloakAccount, observed_at: datetime, report: ReconciliationReport) -> None:
        try:
            with self._uow() as uow:
                user = uow.users.get_by_subject(account.subject)
                now = self._clock()
                if user is None:
                    report.found[Drift.MISSING] += 1
                    created = user_from_account(account, new_id(), now, observed_at)
                    uow.users.add(created)
                    uow.events.user_created(created, welcome=False)
                    uow.commit()
                    report.fixed[Drift.MISSING] += 1
                    return
                if user.state is UserState.DELETED or _changed_since(user, observed_at):
                    return
                followed, changed = follow_account(user, account)
                if not changed:
                    return
                drift = drift_of(changed)
                report.found[drift] += 1
                saved = uow.users.save(replace(followed, updated_at=now, last_event_at=observed_at))
                uow.events.user_updated(saved, changed)
                uow.commit()
                report.fixed[drift] += 1
        except (DuplicateRecord, errors.Conflict) as lost:  # a webhook event or a first call got there first
            log.info("keycloak.reconcile_skipped", subject=account.subject, reason=str(lost))

    def _delete_absent(self, listed: set[str], started: datetime, report: ReconciliationReport) -> None:
        candidates = [u for u in self._active_users() if u.subject not in listed and not _changed_since(u, started)]
        if len(candidates) > self._max_deletions:
            report.found[Drift.ABSENT] = report.deletions_held = len(candidates)
            log.error("keycloak.deletions_held", absent=len(candidates), max_deletions=self._max_deletions)
            return
        for candidate in candidates:
            if self._directory.exists(candidate.subject):
                continue  # listed on no page only because the pages shifted under a concurrent deletion
            report.found[Drift.ABSENT] += 1
            if self._delete(candidate, started):
                report.fixed[Drift.ABSENT] += 1

    def _delete(self, candidate: User, started: datetime) -> bool:
        with self._uow() as uow:
            user = uow.users.get(candidate.id)
            if user is None or user.version != candidate.version:
                return False  # changed since it was read: the next run looks again
            try:
                deleted = uow.users.save(
                    replace(user, state=UserState.DELETED, updated_at=self._clock(), last_event_at=started)
                )
            except errors.Conflict:
                return False
            uow.events.user_deleted(deleted)
            uow.commit()
            return True

    def _active_users(self) -> list[User]:
        found: list[User] = []
        window = ListWindow(LOCAL_WINDOW)
        while True:
            with self._uow(read_only=True) as uow:
                rows = uow.users.list_after(window, "", UserState.ACTIVE)
            found.extend(rows[:LOCAL_WINDOW])
            if len(rows) <= LOCAL_WINDOW:
                return found
            window = ListWindow(LOCAL_WINDOW, after=(rows[LOCAL_WINDOW - 1].id,))


def _changed_since(user: User, moment: datetime) -> bool:
    """Whether the user was created, or a Keycloak event applied to it, at `moment` or after: what
    Keycloak showed before then may be older than what the user holds."""
    created_late = user.created_at is not None and as_utc(user.created_at) >= moment
    event_late = user.last_event_at is not None and as_utc(user.last_event_at) >= moment
    return created_late or event_late

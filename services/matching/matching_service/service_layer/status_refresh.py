"""Job: re-read the status of every profiled page from its owning service (activity, completeness,
publication, summaries, the facts the page holds), so gates and scores follow changes made there (one
run across replicas; `devinsider-matching-sync-pages` runs it on demand). The page
services' events bring those changes within seconds (`page_events.PageStatusFollower`); this slow poll is
the safety net for an event lost or never sent. A status read here holds as of the time its service was
asked, so it never overwrites a newer one an event brought meanwhile.

A page whose status changed owes an announcement round, written in the same transaction as the
status (as a profile change does): a program published, or a company completed, after its profile was
set can open significant pairs that no profile change will ever announce. `notified_matches` keeps
each pair to one MatchFound however many rounds run."""

from __future__ import annotations

import structlog

from matching_service.domain.pages import deleted_status
from matching_service.service_layer.announcer import Announcer
from matching_service.service_layer.common import Clock, UowFactory, save_status
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.ports import PageDirectory

log = structlog.get_logger("matching.status_refresh")

BATCH = 200


class StatusRefresher:
    def __init__(
        self, uow: UowFactory, clock: Clock, directory: PageDirectory, sync: IndexSync, announcer: Announcer
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._directory = directory
        self._sync = sync
        self._announcer = announcer

    def run(self) -> int:
        with self._uow() as uow:
            pages = [p.page for p in uow.profiles.all()]
            stored = {s.page.name: s for s in uow.statuses.all()}
        changed = 0
        for start in range(0, len(pages), BATCH):
            chunk = pages[start : start + BATCH]
            asked = self._clock()
            fresh = self._directory.statuses(p.name for p in chunk)
            now = self._clock()
            with self._uow() as uow:
                names = []
                for page in chunk:
                    # A page the owning service no longer returns is deleted: inactive, summary kept.
                    status = fresh.get(page.name) or deleted_status(page, stored.get(page.name))
                    if save_status(uow, status, asked, now):
                        names.append(page.name)
                        uow.announcements.request(page.name, now)
                uow.changes.record(names, now)
                uow.commit()
            changed += len(names)
        if changed:
            self._sync.catch_up()
            try:
                self._announcer.drain()
            except Exception:  # the rounds stay pending: the announcement job drains them
                log.exception("matches.announce_failed", reason="status refresh")
        return changed

    def without_facts(self) -> list[str]:
        """The profiled pages whose facts are not known (their service never returned them since migration
        0004): their profiles still score their own values."""
        with self._uow() as uow:
            known = {s.page.name for s in uow.statuses.all() if s.facts is not None}
            return sorted(p.page.name for p in uow.profiles.all() if p.page.name not in known)

"""MatchFound for pairs that score at or above the significance threshold for the first time.

A profile change records a pending announcement for its page in its own transaction (see
`ProfileUseCases.update`), so the change and the debt of announcing it commit together or not at
all. Draining a pending row is one transaction too: it ranks the page's counterparts on the index
(caught up past the change), records each new pair in `notified_matches` (one row per pair, insert
if absent, so a pair is announced once even by concurrent drainers), writes the MatchFound events
to the outbox and deletes the pending row. The profile update drains its own row right after the
commit; the `matching-match-announcements` job drains whatever a crash or a failure left behind.
"""

from __future__ import annotations

import structlog

from devinsider_common.pages.names import PageKind, PageName, parse_page
from matching_service.domain.matches import Query
from matching_service.domain.pages import TARGET_KINDS
from matching_service.service_layer.common import Clock, MatchingConfig, UowFactory
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.ports import MatchingUnitOfWork

log = structlog.get_logger("matching.announcer")

# Pending rows drained per transaction.
BATCH = 50


class Announcer:
    def __init__(self, uow: UowFactory, clock: Clock, sync: IndexSync, config: MatchingConfig) -> None:
        self._uow = uow
        self._clock = clock
        self._sync = sync
        self._config = config

    def after_change(self, page: PageName) -> int:
        """Drain the rows of `page` right after its change committed. A failure here is logged and
        left to the job (the pending row stays): the change itself succeeded."""
        try:
            return self.drain(page)
        except Exception:
            log.exception("matches.announce_failed", page=page.name)
            return 0

    def drain(self, page: PageName | None = None) -> int:
        """Announce the new significant pairs of every pending page (of `page` only when given);
        returns how many MatchFound events were written."""
        announced = 0
        while True:
            with self._uow() as uow:
                claimed = uow.announcements.claim(BATCH, page.name if page else None)
                if not claimed:
                    return announced
                # The pending rows committed with their change: catching up now puts that change in the index.
                self._sync.catch_up()
                for name in dict.fromkeys(name for _, name in claimed):
                    announced += self._announce(uow, parse_page(name, "page"))
                uow.announcements.done(i for i, _ in claimed)
                uow.commit()
            if len(claimed) < BATCH:
                return announced

    def _announce(self, uow: MatchingUnitOfWork, page: PageName) -> int:
        index = self._sync.index()
        excluded = uow.blocks.counterparts(page.name)
        query = Query(excluded=excluded, min_score=self._config.significant_score, limit=self._config.max_announcements)
        pairs: list[tuple[PageName, PageName, float]] = []
        if page.kind is PageKind.COMPANY:
            for kind in TARGET_KINDS:
                ranked = index.rank_targets(page.name, kind, query)
                pairs += [
                    (page, parse_page(n, "page", (kind,)), s) for n, s in zip(ranked.names, ranked.scores, strict=True)
                ]
        else:
            ranked = index.rank_companies(page.name, page.kind, query)
            pairs += [
                (parse_page(n, "page", (PageKind.COMPANY,)), page, s)
                for n, s in zip(ranked.names, ranked.scores, strict=True)
            ]
        if not pairs:
            return 0
        now = self._clock()
        statuses = uow.statuses.get_many({p.name for c, t, _ in pairs for p in (c, t)})
        # Claimed in a fixed order, so two drainers inserting overlapping pairs cannot deadlock.
        fresh = {
            (company.name, target.name)
            for company, target, score in sorted(pairs, key=lambda pair: (pair[0].name, pair[1].name))
            if uow.notified.claim(company.name, target.name, score, now)
        }
        for company, target, score in pairs:  # best first
            if (company.name, target.name) in fresh:
                uow.events.match_found(company, target, score, statuses.get(company.name), statuses.get(target.name))
        log.info("matches.announced", page=page.name, count=len(fresh))
        return len(fresh)

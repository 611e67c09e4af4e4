"""MatchFound for pairs that score at or above the significance threshold for the first time."""

from __future__ import annotations

import structlog

from matching_service.domain.pages import TARGET_KINDS, PageKind, PageRef
from matching_service.index.engine import Query
from matching_service.service_layer.common import Clock, MatchingConfig, UowFactory
from matching_service.service_layer.index_sync import IndexSync

log = structlog.get_logger("matching.announcer")


class Announcer:
    def __init__(self, uow: UowFactory, clock: Clock, sync: IndexSync, config: MatchingConfig) -> None:
        self._uow = uow
        self._clock = clock
        self._sync = sync
        self._config = config

    def announce(self, page: PageRef) -> int:
        """Runs after the change committed; a crash here loses no data, only this round of news."""
        index = self._sync.index()
        with self._uow() as uow:
            excluded = uow.blocks.counterparts(page.name)
        query = Query(excluded=excluded, min_score=self._config.significant_score, limit=self._config.max_announcements)
        pairs: list[tuple[PageRef, PageRef, float]] = []
        if page.kind is PageKind.COMPANY:
            for kind in TARGET_KINDS:
                ranked = index.rank_targets(page.name, kind, query)
                pairs += [(page, PageRef(kind, n), s) for n, s in zip(ranked.names, ranked.scores, strict=True)]
        else:
            ranked = index.rank_companies(page.name, page.kind, query)
            pairs += [(PageRef(PageKind.COMPANY, n), page, s) for n, s in zip(ranked.names, ranked.scores, strict=True)]
        if not pairs:
            return 0
        now = self._clock()
        with self._uow() as uow:
            known = uow.notified.known((c.name, t.name) for c, t, _ in pairs)
            fresh = [(c, t, s) for c, t, s in pairs if (c.name, t.name) not in known]
            statuses = uow.statuses.get_many({p.name for c, t, _ in fresh for p in (c, t)})
            for company, target, score in fresh:
                uow.notified.add(company.name, target.name, score, now)
                uow.events.match_found(company, target, score, statuses.get(company.name), statuses.get(target.name))
            uow.commit()
        log.info("matches.announced", page=page.name, count=len(fresh))
        return len(fresh)

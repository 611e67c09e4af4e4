"""Keeps this replica's in-memory index in step with the database.

Every write records the changed pages in `change_log` (serialised, so sequence numbers commit in
order): profiles, and statuses with the facts their pages hold (the index holds effective profiles,
`domain.facts`). Each replica applies the rows after the last sequence it saw: right after its own
writes (read-your-writes) and every `poll_interval` seconds in a background thread, so a change made
on another replica is visible within that bound. A new taxonomy version rebuilds the index.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from devinsider_common.pages.names import PageKind
from matching_service.domain.pages import effective
from matching_service.domain.scoring import Weights
from matching_service.domain.taxonomy import Taxonomy
from matching_service.index.engine import MatchIndex
from matching_service.service_layer.common import UowFactory

log = structlog.get_logger("matching.index")


class IndexSync:
    def __init__(self, uow: UowFactory, weights: dict[PageKind, Weights]) -> None:
        self._uow = uow
        self._weights = weights
        self._index: MatchIndex | None = None
        self._seq = 0
        self._lock = threading.Lock()

    @property
    def seq(self) -> int:
        return self._seq

    def index(self) -> MatchIndex:
        if self._index is None:
            self.catch_up()
        assert self._index is not None
        return self._index

    def taxonomy(self) -> Taxonomy:
        return self.index().taxonomy

    def _load(self) -> None:
        with self._uow() as uow:
            taxonomy = uow.taxonomy.get(uow.taxonomy.latest_version())
            if taxonomy is None:
                raise RuntimeError("the taxonomy is not seeded: run the migrations")
            seq = uow.changes.last_seq()  # read first: later changes are replayed, upserts are idempotent
            statuses = {s.page.name: s for s in uow.statuses.all()}
            index = MatchIndex(taxonomy, self._weights)
            count = 0
            for profile in uow.profiles.all():
                status = statuses.get(profile.page.name)
                index.upsert(profile.page.kind, profile.page.name, effective(profile, status, taxonomy), status)
                count += 1
        self._index, self._seq = index, seq
        log.info("index.loaded", profiles=count, seq=seq, taxonomy_version=taxonomy.version)

    def catch_up(self) -> int:
        """Apply the changes committed since the last call; returns how many pages changed."""
        with self._lock:
            if self._index is None:
                self._load()
                return 0
            with self._uow() as uow:
                if uow.taxonomy.latest_version() != self._index.taxonomy.version:
                    uow.rollback()
                    self._load()
                    return 0
                rows = uow.changes.since(self._seq)
                if not rows:
                    return 0
                pages = {page for _, page in rows}
                profiles = uow.profiles.get_many(pages)
                statuses = uow.statuses.get_many(pages)
            taxonomy = self._index.taxonomy
            for page in pages:
                kind, profile, status = PageKind.of(page), profiles.get(page), statuses.get(page)
                if kind is not None:
                    shown = effective(profile, status, taxonomy) if profile is not None else None
                    self._index.upsert(kind, page, shown, status)
            self._seq = rows[-1][0]
            return len(pages)

    def start_polling(self, interval_seconds: float) -> Callable[[], None]:
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval_seconds):
                try:
                    self.catch_up()
                except Exception:
                    log.exception("index.catch_up_failed")

        thread = threading.Thread(target=run, name="matching-index-sync", daemon=True)
        thread.start()

        def stopper() -> None:
            stop.set()
            thread.join(timeout=5)

        return stopper

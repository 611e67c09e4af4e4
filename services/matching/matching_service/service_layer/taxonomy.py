"""Public reads of the criteria taxonomy (versions are immutable, so they are cached in memory)."""

from __future__ import annotations

import threading

from devinsider_common import errors
from devinsider_common.pagination import ListLimits, finish_window, list_window
from matching_service.domain.taxonomy import Criterion, Dimension, Taxonomy
from matching_service.service_layer.common import UowFactory, not_found


class TaxonomyUseCases:
    def __init__(self, uow: UowFactory, limits: ListLimits) -> None:
        self._uow = uow
        self._limits = limits
        self._cache: dict[int, Taxonomy] = {}
        self._lock = threading.Lock()

    def get(self, version: int = 0) -> Taxonomy:
        if version < 0:
            raise errors.InvalidArgument.for_field("version", "must not be negative")
        with self._uow() as uow:
            wanted = version or uow.taxonomy.latest_version()
            with self._lock:
                cached = self._cache.get(wanted)
            if cached is not None:
                return cached
            taxonomy = uow.taxonomy.get(wanted)
        if taxonomy is None:
            raise not_found(f"taxonomy version {version}")
        with self._lock:
            self._cache[wanted] = taxonomy
        return taxonomy

    def list_criteria(
        self, dimension: Dimension, page_size: int, page_token: str, query: str, parent_code: str, deprecated: bool
    ) -> tuple[list[Criterion], str, int]:
        taxonomy = self.get()
        filters = {"d": int(dimension), "q": query, "p": parent_code, "x": deprecated}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        needle = query.strip().lower()
        items = [
            c
            for c in taxonomy.by_dimension[dimension]
            if (deprecated or not c.deprecated)
            and (not parent_code or c.parent == parent_code)
            and (not needle or needle in c.code.lower() or needle in c.display_name.lower())
        ]
        offset = int(window.after[0]) if window.after else 0
        rows = items[offset : offset + window.size + 1]
        positions = {id(c): (offset + i + 1,) for i, c in enumerate(rows)}
        found, token = finish_window(window, rows, lambda c: positions[id(c)])
        return found, token, taxonomy.version

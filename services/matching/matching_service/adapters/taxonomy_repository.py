"""Reading the taxonomy versions seeded by the migrations."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from matching_service.adapters.tables import criteria, taxonomy_versions
from matching_service.domain.taxonomy import Criterion, Dimension, Taxonomy


class TaxonomyRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def latest_version(self) -> int:
        return int(self._connection.execute(select(func.max(taxonomy_versions.c.version))).scalar_one() or 0)

    def get(self, version: int) -> Taxonomy | None:
        published = self._connection.execute(
            select(taxonomy_versions.c.published_at).where(taxonomy_versions.c.version == version)
        ).scalar_one_or_none()
        if published is None:
            return None
        rows = self._connection.execute(
            select(criteria).where(criteria.c.version == version).order_by(criteria.c.dimension, criteria.c.position)
        ).mappings()
        items = tuple(
            Criterion(Dimension(r["dimension"]), r["code"], r["display_name"], r["parent"], r["rank"], r["deprecated"])
            for r in rows
        )
        return Taxonomy(version, published, items)

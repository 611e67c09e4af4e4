"""The criteria taxonomy: dimensions, how each compares values, and the criteria of one version."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property


class Dimension(enum.IntEnum):
    """Values of devinsider.matching.v1.Dimension."""

    INDUSTRY = 1
    TECHNOLOGY = 2
    COUNTRY = 3
    COMPANY_SIZE = 4
    REVENUE_RANGE = 5
    FUNDING_STAGE = 6
    FUNDING_AMOUNT = 7
    PARTNER_TYPE = 8
    BUSINESS_MODEL = 9

    @property
    def key(self) -> str:
        """Lower snake case id, as in `dimensions/company_size` and in the weights configuration."""
        return self.name.lower()

    @property
    def scale(self) -> Scale:
        return SCALES[self]


class Scale(enum.IntEnum):
    """Values of devinsider.matching.v1.DimensionScale."""

    SET = 1
    ORDINAL = 2
    GEOGRAPHIC = 3
    RANGE = 4


SCALES = {
    Dimension.INDUSTRY: Scale.SET,
    Dimension.TECHNOLOGY: Scale.SET,
    Dimension.COUNTRY: Scale.GEOGRAPHIC,
    Dimension.COMPANY_SIZE: Scale.ORDINAL,
    Dimension.REVENUE_RANGE: Scale.ORDINAL,
    Dimension.FUNDING_STAGE: Scale.ORDINAL,
    Dimension.FUNDING_AMOUNT: Scale.RANGE,
    Dimension.PARTNER_TYPE: Scale.SET,
    Dimension.BUSINESS_MODEL: Scale.SET,
}
DISPLAY_NAMES = {
    Dimension.INDUSTRY: "Industries",
    Dimension.TECHNOLOGY: "Technologies and solution categories",
    Dimension.COUNTRY: "Countries and regions",
    Dimension.COMPANY_SIZE: "Company size",
    Dimension.REVENUE_RANGE: "Annual revenue",
    Dimension.FUNDING_STAGE: "Funding stage",
    Dimension.FUNDING_AMOUNT: "Funding amount",
    Dimension.PARTNER_TYPE: "Partner type",
    Dimension.BUSINESS_MODEL: "Business model",
}
# Dimensions described by codes (every one but the funding amount).
CODED = tuple(d for d in Dimension if d.scale is not Scale.RANGE)
_BY_KEY = {d.key: d for d in Dimension}


def dimension_by_key(key: str) -> Dimension | None:
    return _BY_KEY.get(key)


@dataclass(frozen=True)
class Criterion:
    dimension: Dimension
    code: str
    display_name: str
    parent: str = ""
    rank: int = 0
    deprecated: bool = False

    @property
    def name(self) -> str:
        return f"dimensions/{self.dimension.key}/criteria/{self.code}"


@dataclass(frozen=True)
class Taxonomy:
    version: int
    published_at: datetime
    # Every criterion in display order, grouped by dimension in enum order.
    criteria: tuple[Criterion, ...] = field(default=())

    @cached_property
    def by_dimension(self) -> dict[Dimension, tuple[Criterion, ...]]:
        grouped: dict[Dimension, list[Criterion]] = {d: [] for d in Dimension}
        for criterion in self.criteria:
            grouped[criterion.dimension].append(criterion)
        return {d: tuple(items) for d, items in grouped.items()}

    @cached_property
    def _index(self) -> dict[tuple[Dimension, str], Criterion]:
        return {(c.dimension, c.code): c for c in self.criteria}

    def get(self, dimension: Dimension, code: str) -> Criterion | None:
        return self._index.get((dimension, code))

    def rank(self, dimension: Dimension, code: str) -> int | None:
        criterion = self.get(dimension, code)
        return None if criterion is None else criterion.rank

    def parent(self, dimension: Dimension, code: str) -> str:
        criterion = self.get(dimension, code)
        return "" if criterion is None else criterion.parent

    def known(self, dimension: Dimension, codes: Iterable[str]) -> tuple[str, ...]:
        """The codes of `codes` this taxonomy knows, in input order."""
        return tuple(code for code in codes if (dimension, code) in self._index)

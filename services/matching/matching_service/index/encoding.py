"""The code space of the index: one column per criterion of the coded dimensions, and how a
target's wanted codes turn into per-column credit (what a company holding that one code earns)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.scoring import PARTIAL_CREDIT
from matching_service.domain.taxonomy import CODED, Dimension, Scale, Taxonomy

DIMENSIONS = tuple(Dimension)  # axis 1 of per-dimension arrays, in enum order (the scalar sums in this order)
D = len(DIMENSIONS)
Floats = npt.NDArray[np.float64]


def dim_pos(dimension: Dimension) -> int:
    return int(dimension) - 1


@dataclass
class CodeSpace:
    taxonomy: Taxonomy
    columns: dict[tuple[Dimension, str], int] = field(default_factory=dict)
    # Columns of each coded dimension, as a slice (criteria of a dimension are contiguous).
    spans: dict[Dimension, slice] = field(default_factory=dict)
    # Currency codes of funding amounts and tickets, numbered as first seen (shared by both sides).
    currencies: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = 0
        for dimension in CODED:
            start = k
            for criterion in self.taxonomy.by_dimension[dimension]:
                self.columns[(dimension, criterion.code)] = k
                k += 1
            self.spans[dimension] = slice(start, k)
        self.size = k

    def currency_id(self, code: str) -> int:
        return self.currencies.setdefault(code, len(self.currencies))

    def cols(self, dimension: Dimension, codes: tuple[str, ...]) -> list[int]:
        """Columns of the known codes, deduplicated, in input order."""
        found = (self.columns.get((dimension, code)) for code in codes)
        return list(dict.fromkeys(c for c in found if c is not None))

    def credit(self, dimension: Dimension, wanted: tuple[str, ...]) -> dict[int, float]:
        """Per column of `dimension`: the fit of a company holding only that code."""
        tax, cols = self.taxonomy, self.cols(dimension, wanted)
        if not cols:
            return {}
        scale = dimension.scale
        if scale is Scale.SET:
            return {c: 1.0 / len(cols) for c in cols}
        credit: dict[int, float] = {}
        codes = [code for code in wanted if (dimension, code) in self.columns]
        if scale is Scale.ORDINAL:
            ranks = {tax.rank(dimension, code) for code in codes}
            for criterion in tax.by_dimension[dimension]:
                col = self.columns[(dimension, criterion.code)]
                if criterion.code in codes:
                    credit[col] = 1.0
                elif criterion.rank - 1 in ranks or criterion.rank + 1 in ranks:
                    credit[col] = PARTIAL_CREDIT
            return credit
        wanted_set = set(codes)
        regions_of_wanted_countries = {p for p in (tax.parent(dimension, c) for c in codes) if p}
        for criterion in tax.by_dimension[dimension]:
            col = self.columns[(dimension, criterion.code)]
            parent = criterion.parent
            if criterion.code in wanted_set or (parent and parent in wanted_set):
                credit[col] = 1.0
            elif (parent and parent in regions_of_wanted_countries) or (
                not parent and criterion.code in regions_of_wanted_countries
            ):
                credit[col] = PARTIAL_CREDIT
        return credit

    def member(self, profile: CriteriaProfile) -> list[int]:
        """Every column the profile names (a company's codes, a target's wanted codes)."""
        cols: list[int] = []
        for dimension in CODED:
            cols.extend(self.cols(dimension, profile.codes(dimension)))
        return cols

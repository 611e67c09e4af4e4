"""The in-memory, vectorised match index: one page against every page of the other side in a
few milliseconds. (Every company against every target, which only the bench does, is
`bench/matching/pairs.py`.)

It holds no I/O: `IndexSync` feeds it from the database's change log. Scores equal the scalar
reference (`domain.scoring`) up to float rounding (the sums run in another order).
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devinsider_common.pages.names import PageKind
from matching_service.domain.matches import Query as Query  # the index's query (re-exported)
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.scoring import SCORE_DECIMALS, Weights
from matching_service.domain.taxonomy import Dimension, Scale, Taxonomy
from matching_service.index.encoding import DIMENSIONS, CodeSpace, dim_pos
from matching_service.index.sides import CompanySide, TargetSide

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


def range_fit(
    amount: Floats,
    company_currency: npt.NDArray[np.int32],
    low: Floats,
    high: Floats,
    target_currency: npt.NDArray[np.int32],
) -> Floats:
    """`domain.scoring.ticket_fit`, vectorised (arguments broadcast)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        below = amount / low
        above = np.where(high > 0, np.maximum(0.0, 2.0 - amount / high), 0.0)
        fit = np.where(amount < low, below, np.where(amount > high, above, 1.0))
    ok = (company_currency == target_currency) & (company_currency >= 0) & (amount > 0)
    return np.where(ok, fit, 0.0)


@dataclass(frozen=True)
class Ranked:
    names: list[str]
    scores: list[float]
    total: int  # matches passing the filters (all pages) within the cap
    more: bool
    hidden: int = 0  # matches passing the filters beyond the cap


class MatchIndex:
    def __init__(self, taxonomy: Taxonomy, weights: dict[PageKind, Weights]) -> None:
        self.taxonomy = taxonomy
        self.space = CodeSpace(taxonomy)
        self.companies = CompanySide(self.space)
        self.targets = {
            kind: TargetSide(self.space, kind, weights[kind]) for kind in (PageKind.PROGRAM, PageKind.INVESTOR)
        }
        self.lock = threading.RLock()

    # -- keeping in step -----------------------------------------------------------------------
    def upsert(self, kind: PageKind, name: str, profile: CriteriaProfile | None, status: PageStatus | None) -> None:
        with self.lock:
            side = self.companies if kind is PageKind.COMPANY else self.targets[kind]
            if profile is None:
                side.remove(name)
            else:
                side.upsert(profile, status)

    def __contains__(self, name: str) -> bool:
        return name in self.companies.slots or any(name in side.slots for side in self.targets.values())

    # -- one page against the other side ---------------------------------------------------------
    def company_fits(
        self, company: str, kind: PageKind, dims: Collection[Dimension]
    ) -> tuple[Floats, Bools, dict[Dimension, Floats]] | None:
        """(scores 0-100, required criteria met, fit of each dimension in `dims`) of every target slot."""
        comp, side = self.companies, self.targets[kind]
        slot = comp.slots.get(company)
        if slot is None:
            return None
        n, codes = side.n, comp.codes[slot]
        total = np.zeros(n)
        met_all = np.ones(n, dtype=bool)
        fits: dict[Dimension, Floats] = {}
        for dimension in DIMENSIONS:
            p = dim_pos(dimension)
            if dimension.scale is Scale.RANGE:
                if kind is not PageKind.INVESTOR:
                    continue
                fit = range_fit(comp.amount[slot], comp.currency[slot], side.low[:n], side.high[:n], side.currency[:n])
                met = fit >= 1.0
            else:
                cols = codes.get(dimension, [])
                if not cols:
                    met_all &= ~side.required[p, :n]
                    if dimension in dims:
                        fits[dimension] = np.zeros(n)
                    continue
                rows = side.credit[cols, :n]
                if dimension.scale is Scale.SET:
                    fit = rows.sum(axis=0)
                    met = fit > 0
                else:
                    fit = rows.max(axis=0)
                    met = fit >= 1.0
            total += side.weights[p, :n] * fit
            met_all &= ~side.required[p, :n] | met
            if dimension in dims:
                fits[dimension] = fit
        return np.minimum(100.0, 100.0 * total), met_all, fits

    def target_fits(
        self, target: str, kind: PageKind, dims: Collection[Dimension]
    ) -> tuple[Floats, Bools, dict[Dimension, Floats]] | None:
        """(scores, required met, fits) of every company slot against one target."""
        comp, side = self.companies, self.targets[kind]
        slot = side.slots.get(target)
        if slot is None:
            return None
        n = comp.n
        total = np.zeros(n)
        met_all = np.ones(n, dtype=bool)
        fits: dict[Dimension, Floats] = {}
        for dimension in DIMENSIONS:
            p = dim_pos(dimension)
            weight, required = side.weights[p, slot], side.required[p, slot]
            if weight == 0 and not required and dimension not in dims:
                continue
            if dimension.scale is Scale.RANGE:
                if kind is not PageKind.INVESTOR or side.currency[slot] < 0:
                    fit = np.zeros(n)
                else:
                    fit = range_fit(
                        comp.amount[:n], comp.currency[:n], side.low[slot], side.high[slot], side.currency[slot]
                    )
                met = fit >= 1.0
            else:
                span = self.space.spans[dimension]
                credit = side.credit[span, slot]
                nz = np.flatnonzero(credit)
                members = comp.member[span][nz, :n]
                if nz.size == 0:
                    fit = np.zeros(n)
                elif dimension.scale is Scale.SET:
                    fit = credit[nz] @ members
                else:
                    fit = (credit[nz, None] * members).max(axis=0)
                met = fit > 0 if dimension.scale is Scale.SET else fit >= 1.0
            total += weight * fit
            if required:
                met_all &= met
            if dimension in dims:
                fits[dimension] = fit
        return np.minimum(100.0, 100.0 * total), met_all, fits

    def rank_targets(self, company: str, kind: PageKind, query: Query) -> Ranked:
        """Targets of `kind` for a company, best first; gated pairs (but blocks, in `excluded`) left out."""
        with self.lock:
            side, comp = self.targets[kind], self.companies
            cslot = comp.slots.get(company)
            result = self.company_fits(company, kind, query.full_dimensions)
            if result is None or cslot is None or not comp.ready(kind)[cslot]:
                return Ranked([], [], 0, False)
            scores, met, fits = result
            keep = side.live[: side.n] & side.active[: side.n] & met
            keep[side.owned_by(company)] = False
            return self._rank(side, scores, keep, fits, query)

    def rank_companies(self, target: str, kind: PageKind, query: Query) -> Ranked:
        """Companies for a program or an investor, best first."""
        with self.lock:
            side, comp = self.targets[kind], self.companies
            tslot = side.slots.get(target)
            result = self.target_fits(target, kind, query.full_dimensions)
            if result is None or tslot is None or not side.active[tslot]:
                return Ranked([], [], 0, False)
            scores, met, fits = result
            keep = comp.live[: comp.n] & comp.ready(kind) & met
            vendor = side.vendor.get(tslot)
            if vendor and vendor in comp.slots:
                keep[comp.slots[vendor]] = False
            return self._rank(comp, scores, keep, fits, query)

    def _rank(
        self, side: CompanySide | TargetSide, scores: Floats, keep: Bools, fits: dict[Dimension, Floats], query: Query
    ) -> Ranked:
        # Rank, filter and resume on the scores clients are shown, so `min_score=70` keeps a 69.999… shown as 70.
        scores = np.round(scores, SCORE_DECIMALS)
        keep &= scores > 0
        for name in query.excluded:
            slot = side.slots.get(name)
            if slot is not None:
                keep[slot] = False
        ranks = side.ranks()
        # The cap is taken on the page's matches before the request's filters, which apply within it.
        visible = self._best(keep, scores, ranks, query.cap) if query.cap > 0 else keep.copy()
        if query.min_score > 0:
            keep &= scores >= query.min_score
        for dimension in query.full_dimensions:
            fit = fits.get(dimension)
            keep &= fit >= 1.0 if fit is not None else False
        for dimension, code in query.criteria:
            col = self.space.columns.get((dimension, code))
            if col is None:
                return Ranked([], [], 0, False)
            keep &= side.member[col, : side.n] > 0
        if query.only is not None:
            allowed = np.zeros_like(keep)
            allowed[[side.slots[name] for name in query.only if name in side.slots]] = True
            keep &= allowed
        hidden = int((keep & ~visible).sum())
        keep &= visible
        total = int(keep.sum())
        if query.after is not None:
            last_score, last_name = query.after
            keep &= (scores < last_score) | ((scores == last_score) & (ranks >= side.rank_after(last_name)))
        chosen = self._best_first(np.flatnonzero(keep), scores, ranks, query.limit + 1)
        names = [side.names[i] for i in chosen[: query.limit]]
        return Ranked(
            names, [float(x) for x in scores[chosen[: query.limit]]], total, chosen.size > query.limit, hidden
        )

    @staticmethod
    def _best_first(candidates: Ints, scores: Floats, ranks: Ints, count: int) -> Ints:
        """The `count` best of `candidates` (slots), best shown score first, ties by name."""
        s = scores[candidates]
        if candidates.size > count:
            threshold = -np.partition(-s, count - 1)[count - 1]
            top = s >= threshold
            candidates, s = candidates[top], s[top]
        return candidates[np.lexsort((ranks[candidates], -s))[:count]]

    def _best(self, keep: Bools, scores: Floats, ranks: Ints, count: int) -> Bools:
        """`keep` narrowed to its `count` best slots."""
        best = np.zeros_like(keep)
        best[self._best_first(np.flatnonzero(keep), scores, ranks, count)] = True
        return best

"""Explained scores of a company against a program or an investor (the reference, one pair at a time).

The vectorised index computes the same numbers for many pairs at once; tests check both agree.

- Only the dimensions the target states count, weighted by the configuration of the kind of match
  and normalised over those dimensions (the weights of a score sum to 1).
- Sets: the share of the target's wanted codes the company covers.
- Ordinal scales: 1 for a wanted step, PARTIAL_CREDIT for a neighbouring step, else 0.
- Geography: 1 for a wanted country (or a country of a wanted region), PARTIAL_CREDIT for another
  country of a wanted country's region, else 0; the best of the company's countries counts.
- Funding amount: 1 inside the ticket range, decreasing linearly outside (0 at no money, 0 at twice
  the largest ticket); another currency fits 0.
- Score = sum of 100 x weight x fit over the stated dimensions; a required dimension the company
  does not meet exactly gates the pair (never scored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.taxonomy import Dimension, Scale, Taxonomy

PARTIAL_CREDIT = 0.5
# Points (scores, contributions) reach clients to the hundredth: the float sums carry noise beyond it
# (100 x (3/7 + 2/7 + 2/7) is 99.99999999999999). Sums and comparisons here keep full precision.
SCORE_DECIMALS = 2

Weights = Mapping[Dimension, float]


def shown(points: float) -> float:
    """Points as clients see them (and as match lists rank and filter them): to SCORE_DECIMALS."""
    return round(points, SCORE_DECIMALS)


@dataclass(frozen=True)
class DimensionFit:
    dimension: Dimension
    fit: float
    matched: tuple[str, ...] = ()
    partial: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    required: bool = False

    @property
    def met(self) -> bool:
        """Whether the company meets the dimension exactly (what a `required` flag asks for)."""
        if self.dimension.scale is Scale.SET:
            return bool(self.matched)
        return self.fit >= 1.0


@dataclass(frozen=True)
class DimensionScore:
    fit: DimensionFit
    weight: float

    @property
    def contribution(self) -> float:
        return 100.0 * self.weight * self.fit.fit


@dataclass(frozen=True)
class Scored:
    score: float
    dimensions: tuple[DimensionScore, ...]

    @property
    def required_unmet(self) -> bool:
        return any(d.fit.required and not d.fit.met for d in self.dimensions)


def ticket_fit(amount: float, low: float, high: float) -> float:
    """Fit of an amount against a range; the same arithmetic as the index's vectorised version."""
    if amount <= 0:
        return 0.0
    if amount < low:
        return amount / low
    if amount > high:
        return max(0.0, 2.0 - amount / high) if high > 0 else 0.0
    return 1.0


def _set_fit(dimension: Dimension, wanted: tuple[str, ...], has: set[str]) -> DimensionFit:
    matched = tuple(c for c in wanted if c in has)
    missing = tuple(c for c in wanted if c not in has)
    return DimensionFit(dimension, len(matched) / len(wanted), matched, (), missing)


def _ordinal_fit(taxonomy: Taxonomy, dimension: Dimension, wanted: tuple[str, ...], has: set[str]) -> DimensionFit:
    ranks = {r for r in (taxonomy.rank(dimension, c) for c in has) if r is not None}
    matched, partial, missing = [], [], []
    for code in wanted:
        rank = taxonomy.rank(dimension, code)
        if code in has:
            matched.append(code)
        elif rank is not None and (rank - 1 in ranks or rank + 1 in ranks):
            partial.append(code)
        else:
            missing.append(code)
    fit = 1.0 if matched else PARTIAL_CREDIT if partial else 0.0
    return DimensionFit(dimension, fit, tuple(matched), tuple(partial), tuple(missing))


def _geo_fit(taxonomy: Taxonomy, wanted: tuple[str, ...], has: set[str]) -> DimensionFit:
    dimension = Dimension.COUNTRY
    regions_of_has = {p for p in (taxonomy.parent(dimension, c) for c in has) if p}
    matched, partial, missing = [], [], []
    for code in wanted:
        region = taxonomy.parent(dimension, code)
        if code in has or (not region and code in regions_of_has):
            matched.append(code)  # the country itself, or a wanted region holding one of the company's countries
        elif region and (region in regions_of_has or region in has):
            partial.append(code)  # another country of the same region (or the company states the region)
        else:
            missing.append(code)
    fit = 1.0 if matched else PARTIAL_CREDIT if partial else 0.0
    return DimensionFit(dimension, fit, tuple(matched), tuple(partial), tuple(missing))


def _amount_fit(company: CriteriaProfile, target: CriteriaProfile) -> DimensionFit:
    bounds = target.ticket_range.bounds if target.ticket_range is not None else None
    assert bounds is not None  # only called for stated dimensions
    low, high = bounds
    label = f"{low.currency_code} {low.amount_minor}-{high.amount_minor}"
    need = company.funding_need
    amount = need.amount if need is not None else None
    if amount is None or amount.currency_code != low.currency_code:
        return DimensionFit(Dimension.FUNDING_AMOUNT, 0.0, missing=(label,))
    fit = ticket_fit(float(amount.amount_minor), float(low.amount_minor), float(high.amount_minor))
    if fit >= 1.0:
        return DimensionFit(Dimension.FUNDING_AMOUNT, fit, matched=(label,))
    if fit > 0:
        return DimensionFit(Dimension.FUNDING_AMOUNT, fit, partial=(label,))
    return DimensionFit(Dimension.FUNDING_AMOUNT, fit, missing=(label,))


def dimension_fit(
    taxonomy: Taxonomy, dimension: Dimension, company: CriteriaProfile, target: CriteriaProfile
) -> DimensionFit:
    scale = dimension.scale
    if scale is Scale.RANGE:
        fit = _amount_fit(company, target)
    else:
        wanted = tuple(dict.fromkeys(taxonomy.known(dimension, target.codes(dimension))))
        has = set(taxonomy.known(dimension, company.codes(dimension)))
        if scale is Scale.SET:
            fit = _set_fit(dimension, wanted, has)
        elif scale is Scale.ORDINAL:
            fit = _ordinal_fit(taxonomy, dimension, wanted, has)
        else:
            fit = _geo_fit(taxonomy, wanted, has)
    return DimensionFit(fit.dimension, fit.fit, fit.matched, fit.partial, fit.missing, target.required(dimension))


def stated_dimensions(taxonomy: Taxonomy, target: CriteriaProfile) -> tuple[Dimension, ...]:
    """The dimensions a target states with at least one code the taxonomy knows (or a ticket range)."""
    return tuple(
        d for d in Dimension if (target.states(d) if d.scale is Scale.RANGE else taxonomy.known(d, target.codes(d)))
    )


def normalised_weights(stated: tuple[Dimension, ...], weights: Weights) -> dict[Dimension, float]:
    total = sum(max(0.0, weights.get(d, 0.0)) for d in stated)
    if total <= 0:
        return {d: 0.0 for d in stated}
    return {d: max(0.0, weights.get(d, 0.0)) / total for d in stated}


def score_pair(taxonomy: Taxonomy, company: CriteriaProfile, target: CriteriaProfile, weights: Weights) -> Scored:
    stated = stated_dimensions(taxonomy, target)
    normalised = normalised_weights(stated, weights)
    dimensions = tuple(DimensionScore(dimension_fit(taxonomy, d, company, target), normalised[d]) for d in stated)
    score = 0.0
    for d in dimensions:  # the index sums in the same order
        score += d.weight * d.fit.fit
    return Scored(min(100.0, 100.0 * score), dimensions)

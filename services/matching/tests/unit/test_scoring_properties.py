"""Properties of the scores (hypothesis), and the vectorised index agreeing with the scalar reference."""

from __future__ import annotations

import math
import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devinsider_common.pages.names import PageKind, PageName, parse_page
from matching_service.domain.gates import Gate, first_gate
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import Criteria, CriteriaProfile, FundingNeed, Money, TicketRange
from matching_service.domain.scoring import Scored, score_pair, shown
from matching_service.domain.taxonomy import CODED, Dimension, Scale
from matching_service.index.engine import MatchIndex, Query
from matching_service.settings import MatchingSettings

from ..fakes import seed_taxonomy

TAX = seed_taxonomy()
WEIGHTS = MatchingSettings(database_url="sqlite://").weights()
COMPANY = PageName(PageKind.COMPANY, "c1")
PROGRAM = PageName(PageKind.PROGRAM, "p1")
INVESTOR = PageName(PageKind.INVESTOR, "i1")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def codes_of(dimension: Dimension) -> list[str]:
    return [c.code for c in TAX.by_dimension[dimension]]


def _codes(dimension: Dimension, company: bool) -> st.SearchStrategy[tuple[str, ...]]:
    """Distinct codes of the dimension (positions in the taxonomy, deduplicated: a third of the cost of
    `lists(sampled_from(...), unique=True)` to draw, and they shrink towards the first codes alike)."""
    pool = codes_of(dimension)
    size = 1 if company and dimension.scale is Scale.ORDINAL else 6
    positions = st.lists(st.integers(0, len(pool) - 1), max_size=size)
    return positions.map(lambda found: tuple(dict.fromkeys(pool[i] for i in found)))


@st.composite
def company_profiles(draw: st.DrawFn, name: str = "companies/c1") -> CriteriaProfile:
    criteria = {}
    for d in CODED:
        codes = draw(_codes(d, company=True))
        if codes:
            criteria[d] = Criteria(codes)
    amount = draw(st.one_of(st.none(), st.integers(0, 5_000_000).map(lambda a: Money("EUR", a))))
    need = FundingNeed(draw(st.booleans()), amount)
    return CriteriaProfile(parse_page(name, kinds=(PageKind.COMPANY,)), criteria, need)


@st.composite
def target_profiles(draw: st.DrawFn, kind: PageKind = PageKind.INVESTOR, name: str = "investors/i1") -> CriteriaProfile:
    criteria = {}
    for d in CODED:
        codes = draw(_codes(d, company=False))
        if codes:
            criteria[d] = Criteria(codes, draw(st.booleans()) and draw(st.booleans()))
    ticket = None
    if kind is PageKind.INVESTOR and draw(st.booleans()):
        low = draw(st.integers(0, 2_000_000))
        high = draw(st.integers(low, 4_000_000))
        currency = draw(st.sampled_from(["EUR", "EUR", "USD"]))
        ticket = TicketRange(Money(currency, low), Money(currency, max(high, 1)), draw(st.booleans()))
    return CriteriaProfile(parse_page(name, kinds=(kind,)), criteria, None, ticket)


def score(company: CriteriaProfile, target: CriteriaProfile) -> float:
    return score_pair(TAX, company, target, WEIGHTS[target.page.kind]).score


# The properties of one pair share its draw (drawing the profiles is most of a property's cost):
# each runs on every one of the 150 examples.


def bounded_and_explained(target: CriteriaProfile, scored: Scored) -> None:
    """Scores lie in 0..100, the explanation sums to the score, the weights to 1."""
    assert 0.0 <= scored.score <= 100.0
    assert math.isclose(sum(d.contribution for d in scored.dimensions), scored.score, abs_tol=1e-9)
    weights = sum(d.weight for d in scored.dimensions)
    assert weights == 0 or math.isclose(weights, 1.0)
    for d in scored.dimensions:
        assert 0.0 <= d.fit.fit <= 1.0
        assert target.states(d.fit.dimension)  # only stated dimensions are explained


def covering_one_more_wanted_code_never_lowers_the_score(
    company: CriteriaProfile, target: CriteriaProfile, dimension: Dimension, base: float
) -> None:
    wanted = [c for c in target.codes(dimension) if c not in company.codes(dimension)]
    if not wanted:
        return
    more = dict(company.criteria)
    more[dimension] = Criteria((*company.codes(dimension), wanted[0]))
    richer = score(CriteriaProfile(company.page, more, company.funding_need), target)
    assert richer >= base - 1e-12
    if dimension.scale is Scale.SET and target.states(dimension) and WEIGHTS[PageKind.INVESTOR][dimension] > 0:
        assert richer > base  # strictly, on sets


def dimensions_the_target_leaves_empty_do_not_count(
    company: CriteriaProfile, target: CriteriaProfile, dimension: Dimension, base: float
) -> None:
    if target.states(dimension):
        return
    changed = dict(company.criteria)
    changed[dimension] = Criteria(tuple(codes_of(dimension)[:1]))
    assert score(CriteriaProfile(company.page, changed, company.funding_need), target) == base


def scores_do_not_depend_on_the_order_of_codes(
    company: CriteriaProfile, target: CriteriaProfile, rnd: random.Random, base: float
) -> None:
    shuffled = {}
    for d, c in target.criteria.items():
        codes = list(c.codes)
        rnd.shuffle(codes)
        shuffled[d] = Criteria(tuple(codes), c.required)
    other = CriteriaProfile(target.page, shuffled, None, target.ticket_range)
    assert math.isclose(score(company, other), base, abs_tol=1e-9)


def a_required_criterion_is_absolute(company: CriteriaProfile, target: CriteriaProfile, dimension: Dimension) -> None:
    wanted = target.codes(dimension)
    if not wanted:
        return
    required = dict(target.criteria)
    required[dimension] = Criteria(wanted, True)
    strict = CriteriaProfile(target.page, required, None, target.ticket_range)
    scored = score_pair(TAX, company, strict, WEIGHTS[PageKind.INVESTOR])
    fit = next(d.fit for d in scored.dimensions if d.fit.dimension is dimension)
    ok = PageStatus(COMPANY, active=True, program_complete=True, investor_complete=True)
    gate = first_gate(
        ok, PageStatus(strict.page, active=True), company, blocked=False, required_unmet=scored.required_unmet
    )
    if not fit.met:  # however well the rest fits, the pair is never scored
        assert gate in {Gate.REQUIRED_CRITERION_UNMET, Gate.NOT_LOOKING_FOR_FUNDING}
        assert scored.required_unmet


@FAST
@given(
    company_profiles(),
    target_profiles(),
    st.sampled_from([d for d in CODED if d.scale is not Scale.ORDINAL]),
    st.sampled_from(CODED),
    st.randoms(use_true_random=False),
)
def test_the_properties_of_a_pair(
    company: CriteriaProfile, target: CriteriaProfile, set_or_geo: Dimension, any_coded: Dimension, rnd: random.Random
) -> None:
    scored = score_pair(TAX, company, target, WEIGHTS[PageKind.INVESTOR])  # the targets are investors
    bounded_and_explained(target, scored)
    covering_one_more_wanted_code_never_lowers_the_score(company, target, set_or_geo, scored.score)
    dimensions_the_target_leaves_empty_do_not_count(company, target, any_coded, scored.score)
    scores_do_not_depend_on_the_order_of_codes(company, target, rnd, scored.score)
    a_required_criterion_is_absolute(company, target, any_coded)


@FAST
@given(
    st.sampled_from([d for d in CODED if d.scale is not Scale.SET]),
    st.data(),
)
def test_single_values_compare_symmetrically(dimension: Dimension, data: st.DataObject) -> None:
    a, b = data.draw(st.sampled_from(codes_of(dimension))), data.draw(st.sampled_from(codes_of(dimension)))
    if dimension is Dimension.COUNTRY and (not TAX.parent(dimension, a) or not TAX.parent(dimension, b)):
        return  # regions against countries are not symmetric on purpose (a region covers its countries)

    def fit(has: str, wants: str) -> float:
        company = CriteriaProfile(COMPANY, {dimension: Criteria((has,))})
        target = CriteriaProfile(PROGRAM, {dimension: Criteria((wants,))})
        return score_pair(TAX, company, target, WEIGHTS[PageKind.PROGRAM]).dimensions[0].fit.fit

    assert fit(a, b) == fit(b, a)
    assert fit(a, a) == 1.0


def test_partial_credit_for_neighbouring_steps_and_same_region() -> None:
    company = CriteriaProfile(
        COMPANY, {Dimension.FUNDING_STAGE: Criteria(("seed",)), Dimension.COUNTRY: Criteria(("FR",))}
    )
    target = CriteriaProfile(
        PROGRAM, {Dimension.FUNDING_STAGE: Criteria(("series_a",)), Dimension.COUNTRY: Criteria(("DE", "US"))}
    )
    fits = {d.fit.dimension: d.fit for d in score_pair(TAX, company, target, WEIGHTS[PageKind.PROGRAM]).dimensions}
    assert fits[Dimension.FUNDING_STAGE].fit == 0.5 and fits[Dimension.FUNDING_STAGE].partial == ("series_a",)
    assert fits[Dimension.COUNTRY].fit == 0.5 and fits[Dimension.COUNTRY].partial == ("DE",)
    assert fits[Dimension.COUNTRY].missing == ("US",)
    region = CriteriaProfile(PROGRAM, {Dimension.COUNTRY: Criteria(("europe",))})
    assert score_pair(TAX, company, region, WEIGHTS[PageKind.PROGRAM]).score == 100.0


def test_ticket_fit_is_full_inside_and_decreases_outside() -> None:
    ticket = TicketRange(Money("EUR", 100), Money("EUR", 200))
    target = CriteriaProfile(INVESTOR, {}, None, ticket)

    def at(amount: int, currency: str = "EUR") -> float:
        company = CriteriaProfile(COMPANY, {}, FundingNeed(True, Money(currency, amount)))
        return score(company, target)

    assert at(100) == at(150) == at(200) == 100.0
    assert at(50) == 50.0 and at(300) == 50.0 and at(400) == 0.0 and at(0) == 0.0
    assert at(150, "USD") == 0.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(company_profiles(), min_size=1, max_size=6),
    st.lists(target_profiles(), min_size=1, max_size=6),
)
def test_the_index_agrees_with_the_scalar_reference(
    companies: list[CriteriaProfile], targets: list[CriteriaProfile]
) -> None:
    index = MatchIndex(TAX, WEIGHTS)
    companies = [
        CriteriaProfile(PageName(PageKind.COMPANY, f"c{i}"), c.criteria, c.funding_need)
        for i, c in enumerate(companies)
    ]
    targets = [
        CriteriaProfile(PageName(PageKind.INVESTOR, f"i{i}"), t.criteria, None, t.ticket_range)
        for i, t in enumerate(targets)
    ]
    for c in companies:
        index.upsert(PageKind.COMPANY, c.page.name, c, PageStatus(c.page, True, True, True))
    for t in targets:
        index.upsert(PageKind.INVESTOR, t.page.name, t, PageStatus(t.page, True))
    # The scalar reference of every pair, computed once.
    reference = {
        (c.page.name, t.page.name): score_pair(TAX, c, t, WEIGHTS[PageKind.INVESTOR])
        for c in companies
        for t in targets
    }
    for c in companies:
        result = index.company_fits(c.page.name, PageKind.INVESTOR, ())
        assert result is not None
        scores, met, _ = result
        for t in targets:
            slot = index.targets[PageKind.INVESTOR].slots[t.page.name]
            pair = reference[(c.page.name, t.page.name)]
            assert math.isclose(scores[slot], pair.score, abs_tol=1e-9)
            assert bool(met[slot]) == (not pair.required_unmet)
        listed = index.rank_targets(c.page.name, PageKind.INVESTOR, Query(limit=100))
        looking = c.funding_need is not None and c.funding_need.looking_for_funding
        expected = sorted(  # lists rank on the shown scores, ties by name
            (-shown(pair.score), t.page.name)
            for t in targets
            if looking and not (pair := reference[(c.page.name, t.page.name)]).required_unmet and pair.score > 0
        )
        assert all(s == shown(s) for s in listed.scores)
        # Sums in another order may round to the other side of a hundredth: then only the scores agree.
        assert listed.names == [n for _, n in expected] or np.allclose(
            listed.scores, [-s for s, _ in expected], rtol=0, atol=0.011
        )
    for t in targets:
        result = index.target_fits(t.page.name, PageKind.INVESTOR, ())
        assert result is not None
        for c in companies:
            slot = index.companies.slots[c.page.name]
            assert math.isclose(result[0][slot], reference[(c.page.name, t.page.name)].score, abs_tol=1e-9)

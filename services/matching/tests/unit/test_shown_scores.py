"""Scores reach clients to the hundredth: a pair the float sums put at 99.99999999999999 shows 100."""

from __future__ import annotations

from devinsider_common.pages.names import PageKind, PageName
from matching_service.adapters.proto_mapping import dimension_score_to_proto
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import Criteria, CriteriaProfile
from matching_service.domain.scoring import score_pair, shown
from matching_service.domain.taxonomy import Dimension
from matching_service.index.engine import MatchIndex, Query
from matching_service.settings import MatchingSettings

from ..fakes import seed_taxonomy

TAX = seed_taxonomy()
WEIGHTS = MatchingSettings(database_url="sqlite://").weights()
# Program weights 3 + 2 + 2: 100 x (3/7 + 2/7 + 2/7) sums to 99.99999999999999 in floats.
WANTED = {
    Dimension.INDUSTRY: Criteria(("fintech",)),
    Dimension.COUNTRY: Criteria(("FR",)),
    Dimension.PARTNER_TYPE: Criteria(("reseller",)),
}
COMPANY = CriteriaProfile(PageName(PageKind.COMPANY, "c1"), WANTED)
PROGRAM = CriteriaProfile(PageName(PageKind.PROGRAM, "p1"), WANTED)


def test_the_case_is_noisy_in_floats_and_shown_as_a_round_score() -> None:
    scored = score_pair(TAX, COMPANY, PROGRAM, WEIGHTS[PageKind.PROGRAM])
    assert scored.score != 100.0 and abs(scored.score - 100.0) < 1e-9  # the noise clients used to see
    assert shown(scored.score) == 100.0
    contributions = [dimension_score_to_proto(d).contribution for d in scored.dimensions]
    assert sorted(contributions) == [28.57, 28.57, 42.86]


def test_match_lists_rank_and_filter_on_the_shown_score() -> None:
    index = MatchIndex(TAX, WEIGHTS)
    index.upsert(PageKind.COMPANY, COMPANY.page.name, COMPANY, PageStatus(COMPANY.page, True, True, True))
    index.upsert(PageKind.PROGRAM, PROGRAM.page.name, PROGRAM, PageStatus(PROGRAM.page, True))
    listed = index.rank_targets(COMPANY.page.name, PageKind.PROGRAM, Query(min_score=100.0))
    assert (listed.names, listed.scores) == (["programs/p1"], [100.0])
    back = index.rank_companies(PROGRAM.page.name, PageKind.PROGRAM, Query(min_score=100.0))
    assert (back.names, back.scores) == (["companies/c1"], [100.0])

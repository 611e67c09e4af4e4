"""A plan's cap on match results (billing's `match_results_visible`): a page sees its N best matches, the
request's filters and windows apply within them, what passes the filters beyond them is counted as hidden,
never refused; for company, program and investor lists alike, whoever asks."""

from __future__ import annotations

import pytest

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.pages.names import PageKind
from devinsider_common.testing.tokens import principal
from matching_service.domain.matches import MatchFilters, MatchList
from matching_service.domain.profile import FundingNeed, TicketRange

from ..fakes import World
from .helpers import ALICE, IND, IVAN, NO_CONTEXT, PAT, STAGE, eur, market, page, rpc, set_profile

ACME = page("companies/acme")


def programs_of(matching: World, size: int = 0, token: str = "", **filters: object) -> MatchList:
    return matching.app.matches.list_matches(ALICE, ACME, PageKind.PROGRAM, size, token, MatchFilters(**filters))  # type: ignore[arg-type]


def names(listed: MatchList) -> list[str]:
    return [i.page.name for i in listed.items]


@pytest.fixture
def capped(matching: World) -> World:
    """acme sees p-full (100), p-half and p-twin (50, ties by name); its plan shows two."""
    market(matching)
    matching.entitlements.set(ACME.name, match_results_visible=2)
    return matching


def test_a_capped_page_sees_its_best_matches_and_how_many_are_hidden(capped: World) -> None:
    listed = programs_of(capped)
    assert names(listed) == ["programs/p-full", "programs/p-half"] and not listed.next_page_token
    assert (listed.total_size, listed.hidden) == (2, 1)
    assert capped.entitlements.asked == [ACME.name]  # the listing page's entitlement, once a list

    capped.entitlements.set(ACME.name, match_results_visible=0)  # a plan without a cap: everything
    everything = programs_of(capped)
    assert (names(everything)[-1], everything.total_size, everything.hidden) == ("programs/p-twin", 3, 0)
    capped.entitlements.set(ACME.name, match_results_visible=10)  # a cap above what there is hides nothing
    assert (programs_of(capped).total_size, programs_of(capped).hidden) == (3, 0)


def test_windows_stop_at_the_cap(capped: World) -> None:
    first = programs_of(capped, 1)
    assert names(first) == ["programs/p-full"] and first.next_page_token and (first.total_size, first.hidden) == (2, 1)
    second = programs_of(capped, 1, first.next_page_token)
    assert names(second) == ["programs/p-half"] and not second.next_page_token and second.hidden == 1


def test_filters_apply_within_the_cap_so_they_cannot_reach_past_it(capped: World) -> None:
    edtech = programs_of(capped, criteria=((IND, "edtech"),))  # p-half and p-twin pass; p-twin is beyond the cap
    assert (names(edtech), edtech.total_size, edtech.hidden) == (["programs/p-half"], 1, 1)
    above = programs_of(capped, min_score=60.0)
    assert (names(above), above.hidden) == (["programs/p-full"], 0)  # the others fail the filter: not hidden
    capped.app.social.add_favorite(ALICE, ACME, page("programs/p-twin"))
    favorites = programs_of(capped, favorites_only=True)
    assert (names(favorites), favorites.total_size, favorites.hidden) == ([], 0, 1)


def test_programs_and_investors_are_capped_by_their_own_plan(matching: World) -> None:
    matching.pages.add("investors/vc", owner="ivan")
    ticket = TicketRange(eur(1_000_000), eur(3_000_000))
    set_profile(matching, IVAN, "investors/vc", {STAGE: ("series_a",)}, ticket_range=ticket)
    for n in range(3):
        name = f"companies/c{n}"
        matching.pages.add(name, owner="alice")
        set_profile(matching, ALICE, name, {STAGE: ("series_a",)}, funding_need=FundingNeed(True, eur(2_000_000)))
    matching.pages.add("programs/p", owner="pat")
    set_profile(matching, PAT, "programs/p", {STAGE: ("series_a",)})
    matching.entitlements.set("investors/vc", match_results_visible=1)
    matching.entitlements.set("programs/p", match_results_visible=2)

    vc = matching.app.matches.list_matches(IVAN, page("investors/vc"), PageKind.COMPANY, 0, "", MatchFilters())
    assert (names(vc), vc.hidden) == (["companies/c0"], 2)
    program = matching.app.matches.list_matches(PAT, page("programs/p"), PageKind.COMPANY, 0, "", MatchFilters())
    assert (names(program), program.hidden) == (["companies/c0", "companies/c1"], 1)
    # Platform staff look at the page's list as the page sees it.
    staff = principal("root", ("admin",))
    assert (
        matching.app.matches.list_matches(staff, page("programs/p"), PageKind.COMPANY, 0, "", MatchFilters()).hidden
        == 1
    )


def test_the_responses_say_how_many_are_hidden(capped: World) -> None:
    request = pb.ListCompanyMatchesRequest(parent=ACME.name, target_kind=page_pb2.PAGE_KIND_PROGRAM)
    answer = rpc(capped, ALICE, lambda s: s.ListCompanyMatches(request, NO_CONTEXT))
    assert (len(answer.matches), answer.total_size, answer.hidden_match_count) == (2, 2, 1)
    capped.entitlements.set("programs/p-half", match_results_visible=0)
    program = pb.ListProgramMatchesRequest(parent="programs/p-half")
    assert rpc(capped, PAT, lambda s: s.ListProgramMatches(program, NO_CONTEXT)).hidden_match_count == 0

"""Scores of one pair (explained, gated) and match lists (ranked, filtered, windowed) on the fakes."""

from __future__ import annotations

import grpc
import pytest

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.pages.names import PageKind
from devinsider_common.testing.failures import failure
from devinsider_common.testing.tokens import principal
from matching_service.domain.gates import Gate
from matching_service.domain.matches import MatchFilters, MatchList
from matching_service.domain.profile import FundingNeed, TicketRange

from ..fakes import World
from .helpers import ALICE, COUNTRY, EVE, IND, IVAN, NO_CONTEXT, PAT, STAGE, eur, market, page, rpc, set_profile

ACME = page("companies/acme")


def programs_of(matching: World, size: int = 0, token: str = "", **filters: object) -> MatchList:
    return matching.app.matches.list_matches(ALICE, ACME, PageKind.PROGRAM, size, token, MatchFilters(**filters))  # type: ignore[arg-type]


def names(listed: MatchList) -> list[str]:
    return [i.page.name for i in listed.items]


def test_a_score_is_explained_and_gated(matching: World) -> None:
    market(matching)
    half = matching.app.matches.score(ALICE, ACME, page("programs/p-half"))
    assert (half.gate, half.taxonomy_version) == (Gate.NONE, 1) and half.score == pytest.approx(50.0)
    assert sum(d.contribution for d in half.dimensions) == pytest.approx(half.score, abs=1e-9)
    by_dim = {d.fit.dimension: d for d in half.dimensions}
    assert by_dim[IND].weight == pytest.approx(0.6) and by_dim[IND].fit.matched == ("fintech",)
    assert by_dim[IND].fit.missing == ("edtech",) and by_dim[COUNTRY].fit.partial == ("DE",)
    gates = {
        "programs/p-required": Gate.REQUIRED_CRITERION_UNMET,
        "programs/p-draft": Gate.TARGET_INACTIVE,
        "programs/p-own": Gate.OWN_PAGE,
    }
    for target, gate in gates.items():
        scored = matching.app.matches.score(ALICE, ACME, page(target))
        assert (scored.gate, scored.score, scored.dimensions) == (gate, 0.0, ())
    # The program's staff may score too (VIEW_PRIVATE on either page), and platform staff; a stranger may not.
    assert matching.app.matches.score(PAT, ACME, page("programs/p-full")).score == pytest.approx(100.0)
    assert matching.app.matches.score(principal("root", ("admin",)), ACME, page("programs/p-full")).gate is Gate.NONE
    denied = failure(lambda: matching.app.matches.score(EVE, ACME, page("programs/p-full")))
    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    # A score reads the owning services' word first (not yet stored by the refresh) and writes nothing.
    matching.pages.update("companies/acme", program_complete=False)
    commits = matching.store.commits
    assert matching.app.matches.score(ALICE, ACME, page("programs/p-full")).gate is Gate.COMPANY_INCOMPLETE
    assert matching.store.commits == commits
    # A page the owning service does not return keeps its stored status (active, here).
    matching.pages.update("companies/acme", program_complete=True)
    del matching.pages.pages["programs/p-full"]
    assert matching.app.matches.score(ALICE, ACME, page("programs/p-full")).gate is Gate.NONE


def test_company_matches_are_ranked_filtered_and_windowed_with_summaries_in_one_batch(matching: World) -> None:
    market(matching)
    matching.pages.batch_calls.clear()
    first = programs_of(matching, 2)
    assert names(first) == ["programs/p-full", "programs/p-half"] and first.total_size == 3
    assert [i.score for i in first.items] == pytest.approx([100.0, 50.0]) and first.next_page_token
    assert first.items[0].status is not None and first.items[0].status.display_name == "p-full"
    assert matching.pages.batch_calls == [(PageKind.PROGRAM, ("programs/p-full", "programs/p-half"))]
    second = programs_of(matching, 2, first.next_page_token)
    assert names(second) == ["programs/p-twin"] and not second.next_page_token
    refused = failure(lambda: programs_of(matching, 2, first.next_page_token, min_score=60.0))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])
    explained = programs_of(matching, full_dimensions=(COUNTRY,), explain=True)
    assert names(explained) == ["programs/p-full"]
    assert sum(d.contribution for d in explained.items[0].dimensions) == pytest.approx(explained.items[0].score)
    assert programs_of(matching).items[0].dimensions == ()  # explained only on request
    assert names(programs_of(matching, criteria=((IND, "edtech"),))) == ["programs/p-half", "programs/p-twin"]
    assert names(programs_of(matching, criteria=((IND, "unknown"),))) == []
    assert names(programs_of(matching, min_score=60.0)) == ["programs/p-full"]
    reverse = matching.app.matches.list_matches(PAT, page("programs/p-half"), PageKind.COMPANY, 0, "", MatchFilters())
    assert names(reverse) == ["companies/acme"] and reverse.items[0].score == pytest.approx(50.0)
    own = matching.app.matches.list_matches(PAT, page("programs/p-own"), PageKind.COMPANY, 0, "", MatchFilters())
    assert own.items == [] and own.total_size == 0
    # A page the owning service no longer returns is listed with its last stored summary.
    del matching.pages.pages["programs/p-half"]
    stored = {i.page.name: i.status for i in programs_of(matching).items}
    assert stored["programs/p-half"] is not None and stored["programs/p-half"].display_name == "p-half"


def test_pagination_walks_every_match_once(matching: World) -> None:
    matching.pages.add("companies/acme", owner="alice")
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech", "retail", "edtech")})
    industries = ["fintech", "retail", "edtech", "energy", "media"]
    for i in range(23):
        matching.pages.add(f"programs/q{i:02d}", owner="pat")
        set_profile(matching, PAT, f"programs/q{i:02d}", {IND: tuple(industries[: 1 + i % 5])})
    seen: list[tuple[float, str]] = []
    token = ""
    while True:
        window = programs_of(matching, 4, token)
        assert window.total_size == 23
        seen += [(i.score, i.page.name) for i in window.items]
        token = window.next_page_token
        if not token:
            break
    assert len(seen) == 23 and len({n for _, n in seen}) == 23
    assert seen == sorted(seen, key=lambda item: (-item[0], item[1]))
    assert failure(lambda: programs_of(matching, -1)).fields == ["page_size"]
    assert len(programs_of(matching, 10_000).items) == 23  # capped at the maximum, which is larger


def test_investor_matches_need_a_company_looking_for_funding(matching: World) -> None:
    matching.pages.add("companies/acme", owner="alice")
    matching.pages.add("investors/vc", owner="ivan")
    ticket = TicketRange(eur(1_000_000), eur(3_000_000))
    set_profile(matching, IVAN, "investors/vc", {STAGE: ("series_a",)}, ticket_range=ticket)
    set_profile(matching, ALICE, "companies/acme", {STAGE: ("seed",)}, funding_need=FundingNeed(False, eur(2_000_000)))
    vc = page("investors/vc")
    assert matching.app.matches.list_matches(IVAN, vc, PageKind.COMPANY, 0, "", MatchFilters()).items == []
    assert matching.app.matches.score(ALICE, ACME, vc).gate is Gate.NOT_LOOKING_FOR_FUNDING
    set_profile(matching, ALICE, "companies/acme", {STAGE: ("seed",)}, funding_need=FundingNeed(True, eur(2_000_000)))
    listed = matching.app.matches.list_matches(IVAN, vc, PageKind.COMPANY, 0, "", MatchFilters())
    assert names(listed) == ["companies/acme"] and listed.items[0].score == pytest.approx(75.0)  # (3 x .5 + 3) / 6
    investors = matching.app.matches.list_matches(ALICE, ACME, PageKind.INVESTOR, 0, "", MatchFilters())
    assert names(investors) == ["investors/vc"]


def test_the_servicer_checks_the_filters_and_maps_the_lists(matching: World) -> None:
    market(matching)

    def company_matches(**fields: object) -> pb.ListCompanyMatchesResponse:
        request = pb.ListCompanyMatchesRequest(parent="companies/acme", **fields)  # type: ignore[arg-type]
        return rpc(matching, ALICE, lambda s: s.ListCompanyMatches(request, NO_CONTEXT))

    listed = company_matches(target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=1, explain=True)
    assert [m.summary.page.name for m in listed.matches] == ["programs/p-full"] and listed.total_size == 3
    assert listed.matches[0].score == 100.0 and listed.next_page_token and len(listed.matches[0].dimensions) == 2
    refusals = [
        ({"target_kind": page_pb2.PAGE_KIND_COMPANY}, ["target_kind"]),
        ({"target_kind": page_pb2.PAGE_KIND_PROGRAM, "min_score": 101}, ["min_score"]),
        ({"target_kind": page_pb2.PAGE_KIND_PROGRAM, "min_score": float("nan")}, ["min_score"]),
        ({"target_kind": page_pb2.PAGE_KIND_PROGRAM, "matched_dimensions": [99]}, ["matched_dimensions[0]"]),
        (
            {"target_kind": page_pb2.PAGE_KIND_PROGRAM, "criteria": ["dimensions/industry/criteria/x", "industry/x"]},
            ["criteria[1]"],
        ),
    ]
    for fields, paths in refusals:
        refused = failure(lambda f=fields: company_matches(**f))  # type: ignore[misc]
        assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, paths), fields
    program = pb.ListProgramMatchesRequest(parent="programs/p-half", min_score=40)
    assert [
        m.summary.page.name for m in rpc(matching, PAT, lambda s: s.ListProgramMatches(program, NO_CONTEXT)).matches
    ] == ["companies/acme"]
    wrong = pb.ListProgramMatchesRequest(parent="companies/acme")
    assert failure(lambda: rpc(matching, PAT, lambda s: s.ListProgramMatches(wrong, NO_CONTEXT))).fields == ["parent"]
    score = pb.ScoreMatchRequest(company="companies/acme", target="programs/p-half")
    scored = rpc(matching, ALICE, lambda s: s.ScoreMatch(score, NO_CONTEXT))
    assert (scored.eligible, scored.score, scored.target.name) == (True, 50.0, "programs/p-half")
    gated = pb.ScoreMatchRequest(company="companies/acme", target="programs/p-draft")
    assert rpc(matching, ALICE, lambda s: s.ScoreMatch(gated, NO_CONTEXT)).gate == pb.MATCH_GATE_TARGET_INACTIVE
    swapped = pb.ScoreMatchRequest(company="programs/p-full", target="companies/acme")
    assert failure(lambda: rpc(matching, ALICE, lambda s: s.ScoreMatch(swapped, NO_CONTEXT))).fields == ["company"]

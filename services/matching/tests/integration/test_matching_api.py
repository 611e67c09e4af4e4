"""The matching service through gRPC, with in-test page services (CheckPageAccess, BatchGet*)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2

from devinsider.common.v1 import money_pb2, page_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider.matching.v1 import matching_pb2_grpc
from devinsider_common.grpc.status import field_violations, from_rpc_error
from devinsider_common.pages.roles import PageRole
from devinsider_common.taxonomy import INDUSTRY_CODES

from ..conftest import PageWorld, TokenFactory, bearer

Stub = matching_pb2_grpc.MatchingServiceStub
IND, TECH, COUNTRY, STAGE = (
    pb.DIMENSION_INDUSTRY,
    pb.DIMENSION_TECHNOLOGY,
    pb.DIMENSION_COUNTRY,
    pb.DIMENSION_FUNDING_STAGE,
)


def crit(dimension: int, *codes: str, required: bool = False) -> pb.ProfileCriterion:
    return pb.ProfileCriterion(dimension=dimension, codes=list(codes), required=required)  # type: ignore[arg-type]


def set_profile(
    stub: Stub, page: str, auth: tuple[tuple[str, str], ...], *criteria: pb.ProfileCriterion, **extra: object
) -> pb.CriteriaProfile:
    profile = pb.CriteriaProfile(name=f"{page}/criteriaProfile", criteria=list(criteria), **extra)  # type: ignore[arg-type]
    return stub.UpdateCriteriaProfile(pb.UpdateCriteriaProfileRequest(criteria_profile=profile), metadata=auth)


def eur(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", amount_minor=amount)


def violations(error: grpc.RpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    status = from_rpc_error(error)
    assert status is not None
    return list(field_violations(status))


def code_of(call: pytest.ExceptionInfo[grpc.RpcError]) -> grpc.StatusCode:
    return call.value.code()


def test_taxonomy_is_public_versioned_and_searchable(stub: Stub) -> None:
    taxonomy = stub.GetTaxonomy(pb.GetTaxonomyRequest())
    assert taxonomy.version == 1 and len(taxonomy.dimensions) == 9
    sizes = next(d for d in taxonomy.dimensions if d.dimension == pb.DIMENSION_COMPANY_SIZE)
    assert sizes.scale == pb.DIMENSION_SCALE_ORDINAL and [c.rank for c in sizes.criteria] == list(range(6))
    assert stub.GetTaxonomy(pb.GetTaxonomyRequest(version=1)) == taxonomy
    with pytest.raises(grpc.RpcError) as call:
        stub.GetTaxonomy(pb.GetTaxonomyRequest(version=7))
    assert code_of(call) == grpc.StatusCode.NOT_FOUND
    europe = stub.ListCriteria(pb.ListCriteriaRequest(parent="dimensions/country", parent_code="europe", page_size=8))
    assert len(europe.criteria) == 8 and all(c.parent == "europe" for c in europe.criteria) and europe.next_page_token
    rest = stub.ListCriteria(
        pb.ListCriteriaRequest(
            parent="dimensions/country", parent_code="europe", page_size=50, page_token=europe.next_page_token
        )
    )
    assert len(europe.criteria) + len(rest.criteria) == 20 and not rest.next_page_token
    assert {c.code for c in europe.criteria}.isdisjoint({c.code for c in rest.criteria})
    found = stub.ListCriteria(pb.ListCriteriaRequest(parent="dimensions/industry", query="FINT"))
    assert [c.name for c in found.criteria] == ["dimensions/industry/criteria/fintech"]
    # Page services refuse industries outside the shared list: it must be the latest taxonomy's.
    industries = next(d for d in taxonomy.dimensions if d.dimension == IND)
    assert {c.code for c in industries.criteria if not c.deprecated} == INDUSTRY_CODES
    with pytest.raises(grpc.RpcError) as call:
        stub.ListCriteria(pb.ListCriteriaRequest(parent="dimensions/nope"))
    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT


def test_profiles_are_validated_against_the_taxonomy_and_masked(
    stub: Stub, world: PageWorld, token: TokenFactory
) -> None:
    world.add("companies/c1", owner="alice")
    world.add("investors/i1", owner="ivan")
    alice, ivan = bearer(token("alice")), bearer(token("ivan", roles=("investor",)))
    empty = stub.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name="companies/c1/criteriaProfile"), metadata=alice)
    assert list(empty.criteria) == [] and empty.taxonomy_version == 1
    with pytest.raises(grpc.RpcError) as call:
        set_profile(
            stub,
            "companies/c1",
            alice,
            crit(IND, "fintech", "nope"),
            crit(pb.DIMENSION_COMPANY_SIZE, "1_10", "11_50"),
            crit(TECH, "ai_ml", required=True),
            ticket_range=pb.TicketRange(min=eur(1), max=eur(2)),
        )
    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in violations(call.value)}
    assert fields == {
        "criteria_profile.criteria[industry].codes",
        "criteria_profile.criteria[company_size].codes",
        "criteria_profile.criteria[technology].required",
        "criteria_profile.ticket_range",
    }
    saved = set_profile(
        stub,
        "companies/c1",
        alice,
        crit(IND, "fintech"),
        crit(STAGE, "seed"),
        funding_need=pb.FundingNeed(looking_for_funding=True, amount=eur(500_000)),
    )
    assert saved.page.kind == page_pb2.PAGE_KIND_COMPANY and saved.funding_need.amount.amount_minor == 500_000
    # Without a mask only what is sent changes: criteria alone keep the funding need.
    kept = set_profile(stub, "companies/c1", alice, crit(IND, "fintech"), crit(STAGE, "seed"))
    assert kept.funding_need.amount.amount_minor == 500_000
    only_need = pb.UpdateCriteriaProfileRequest(
        criteria_profile=pb.CriteriaProfile(name="companies/c1/criteriaProfile", funding_need=pb.FundingNeed()),
        update_mask=field_mask_pb2.FieldMask(paths=["funding_need"]),
    )
    after = stub.UpdateCriteriaProfile(only_need, metadata=alice)
    assert [c.codes[0] for c in after.criteria] == ["fintech", "seed"] and not after.funding_need.looking_for_funding
    with pytest.raises(grpc.RpcError) as call:
        set_profile(stub, "investors/i1", ivan, ticket_range=pb.TicketRange(min=eur(5), max=eur(2)))
    assert {v.field for v in violations(call.value)} == {"criteria_profile.ticket_range.max"}
    with pytest.raises(grpc.RpcError) as call:
        stub.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name="companies/c1"), metadata=alice)
    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT


def _market(stub: Stub, world: PageWorld, token: TokenFactory) -> dict[str, tuple[tuple[str, str], ...]]:
    """A company and five programs with known scores (weights from the default configuration)."""
    world.add("companies/acme", owner="alice", display_name="Acme")
    auth = {"alice": bearer(token("alice")), "pat": bearer(token("pat", roles=("program",)))}
    set_profile(stub, "companies/acme", auth["alice"], crit(IND, "fintech", "retail"), crit(COUNTRY, "FR"))
    world.add("programs/p-full", owner="pat")  # wants exactly what acme is: 100
    set_profile(stub, "programs/p-full", auth["pat"], crit(IND, "fintech"), crit(COUNTRY, "FR"))
    world.add("programs/p-half", owner="pat")  # half the industries, Germany (same region): (3*0.5+2*0.5)/5 = 50
    set_profile(stub, "programs/p-half", auth["pat"], crit(IND, "fintech", "edtech"), crit(COUNTRY, "DE"))
    world.add("programs/p-twin", owner="pat")  # same as p-half: ties sort by name
    set_profile(stub, "programs/p-twin", auth["pat"], crit(IND, "fintech", "edtech"), crit(COUNTRY, "DE"))
    world.add("programs/p-required", owner="pat")  # requires an industry acme lacks: gated
    set_profile(stub, "programs/p-required", auth["pat"], crit(IND, "edtech", required=True), crit(COUNTRY, "FR"))
    world.add("programs/p-draft", owner="pat", active=False)  # not published: gated
    set_profile(stub, "programs/p-draft", auth["pat"], crit(IND, "fintech"))
    world.add("programs/p-own", owner="pat", vendor_company="companies/acme")  # run by acme itself: gated
    set_profile(stub, "programs/p-own", auth["pat"], crit(IND, "fintech"))
    return auth


def test_score_match_explains_and_gates(stub: Stub, world: PageWorld, token: TokenFactory) -> None:
    auth = _market(stub, world, token)
    half = stub.ScoreMatch(
        pb.ScoreMatchRequest(company="companies/acme", target="programs/p-half"), metadata=auth["alice"]
    )
    assert half.eligible and half.gate == pb.MATCH_GATE_UNSPECIFIED
    assert half.score == pytest.approx(50.0)
    assert sum(d.contribution for d in half.dimensions) == pytest.approx(half.score, abs=1e-9)
    by_dim = {d.dimension: d for d in half.dimensions}
    assert by_dim[IND].weight == pytest.approx(0.6) and list(by_dim[IND].matched) == ["fintech"]
    assert list(by_dim[IND].missing) == ["edtech"] and list(by_dim[COUNTRY].partial) == ["DE"]
    gates = {
        "programs/p-required": pb.MATCH_GATE_REQUIRED_CRITERION_UNMET,
        "programs/p-draft": pb.MATCH_GATE_TARGET_INACTIVE,
        "programs/p-own": pb.MATCH_GATE_OWN_PAGE,
    }
    for target, gate in gates.items():
        scored = stub.ScoreMatch(pb.ScoreMatchRequest(company="companies/acme", target=target), metadata=auth["alice"])
        assert (scored.eligible, scored.gate, scored.score) == (False, gate, 0.0)
    # The program's staff may score too (VIEW_PRIVATE on either page); a stranger may not.
    assert (
        stub.ScoreMatch(
            pb.ScoreMatchRequest(company="companies/acme", target="programs/p-full"), metadata=auth["pat"]
        ).score
        == 100
    )
    with pytest.raises(grpc.RpcError) as call:
        stub.ScoreMatch(
            pb.ScoreMatchRequest(company="companies/acme", target="programs/p-full"), metadata=bearer(token("eve"))
        )
    assert code_of(call) == grpc.StatusCode.PERMISSION_DENIED
    world.pages["companies/acme"].program_complete = False
    incomplete = stub.ScoreMatch(
        pb.ScoreMatchRequest(company="companies/acme", target="programs/p-full"), metadata=auth["alice"]
    )
    assert incomplete.gate == pb.MATCH_GATE_COMPANY_INCOMPLETE
    with pytest.raises(grpc.RpcError) as call:
        stub.ScoreMatch(
            pb.ScoreMatchRequest(company="programs/p-full", target="companies/acme"), metadata=auth["alice"]
        )
    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT


def test_company_matches_are_sorted_filtered_paginated_with_summaries_in_one_batch(
    stub: Stub, world: PageWorld, token: TokenFactory
) -> None:
    auth = _market(stub, world, token)
    world.batch_calls.clear()
    request = pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=2)
    first = stub.ListCompanyMatches(request, metadata=auth["alice"])
    assert [m.summary.page.name for m in first.matches] == ["programs/p-full", "programs/p-half"]
    assert [m.score for m in first.matches] == pytest.approx([100.0, 50.0])
    assert first.total_size == 3 and first.next_page_token and first.matches[0].summary.display_name == "p-full"
    assert world.batch_calls == [("programs", ("programs/p-full", "programs/p-half"))]  # one batch call per page
    request.page_token = first.next_page_token
    second = stub.ListCompanyMatches(request, metadata=auth["alice"])
    assert [m.summary.page.name for m in second.matches] == ["programs/p-twin"] and not second.next_page_token
    request.min_score = 60  # a token from other filters is refused
    with pytest.raises(grpc.RpcError) as call:
        stub.ListCompanyMatches(request, metadata=auth["alice"])
    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    filtered = stub.ListCompanyMatches(
        pb.ListCompanyMatchesRequest(
            parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, matched_dimensions=[COUNTRY], explain=True
        ),
        metadata=auth["alice"],
    )
    assert [m.summary.page.name for m in filtered.matches] == ["programs/p-full"]
    assert sum(d.contribution for d in filtered.matches[0].dimensions) == pytest.approx(filtered.matches[0].score)
    by_criterion = stub.ListCompanyMatches(
        pb.ListCompanyMatchesRequest(
            parent="companies/acme",
            target_kind=page_pb2.PAGE_KIND_PROGRAM,
            criteria=["dimensions/industry/criteria/edtech"],
        ),
        metadata=auth["alice"],
    )
    assert [m.summary.page.name for m in by_criterion.matches] == ["programs/p-half", "programs/p-twin"]
    reverse = stub.ListProgramMatches(pb.ListProgramMatchesRequest(parent="programs/p-half"), metadata=auth["pat"])
    assert [m.summary.page.name for m in reverse.matches] == ["companies/acme"]
    assert reverse.matches[0].score == pytest.approx(50.0)
    none = stub.ListProgramMatches(pb.ListProgramMatchesRequest(parent="programs/p-own"), metadata=auth["pat"])
    assert list(none.matches) == []  # own page
    with pytest.raises(grpc.RpcError) as call:
        stub.ListCompanyMatches(
            pb.ListCompanyMatchesRequest(
                parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, min_score=101
            ),
            metadata=auth["alice"],
        )
    assert {v.field for v in violations(call.value)} == {"min_score"}


def test_favorites_are_flagged_and_blocks_leave_both_sides(stub: Stub, world: PageWorld, token: TokenFactory) -> None:
    auth = _market(stub, world, token)
    alice, pat = auth["alice"], auth["pat"]
    ref = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/p-half")
    favorite = stub.CreateFavorite(
        pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=ref)), metadata=alice
    )
    again = stub.CreateFavorite(
        pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=ref)), metadata=alice
    )
    assert again.name == favorite.name and favorite.summary.display_name == "p-half" and favorite.creator == "alice"
    listing = pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM)
    flags = {m.summary.page.name: m.favorite for m in stub.ListCompanyMatches(listing, metadata=alice).matches}
    assert flags == {"programs/p-full": False, "programs/p-half": True, "programs/p-twin": False}
    only = pb.ListCompanyMatchesRequest(
        parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, favorites_only=True
    )
    assert [m.summary.page.name for m in stub.ListCompanyMatches(only, metadata=alice).matches] == ["programs/p-half"]
    listed = stub.ListFavorites(pb.ListFavoritesRequest(parent="companies/acme"), metadata=alice)
    assert [f.name for f in listed.favorites] == [favorite.name]
    stub.DeleteFavorite(pb.DeleteFavoriteRequest(name=favorite.name), metadata=alice)
    with pytest.raises(grpc.RpcError) as call:
        stub.DeleteFavorite(pb.DeleteFavoriteRequest(name=favorite.name), metadata=alice)
    assert code_of(call) == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as call:
        missing = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/ghost")
        stub.CreateFavorite(
            pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=missing)), metadata=alice
        )
    assert code_of(call) == grpc.StatusCode.NOT_FOUND

    # The program blocks the company: the pair leaves both sides' lists, the blocker alone sees the block.
    acme = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name="companies/acme")
    block = stub.CreateBlock(
        pb.CreateBlockRequest(parent="programs/p-full", block=pb.Block(page=acme, reason="spam")), metadata=pat
    )
    assert [m.summary.page.name for m in stub.ListCompanyMatches(listing, metadata=alice).matches] == [
        "programs/p-half",
        "programs/p-twin",
    ]
    assert (
        list(stub.ListProgramMatches(pb.ListProgramMatchesRequest(parent="programs/p-full"), metadata=pat).matches)
        == []
    )
    scored = stub.ScoreMatch(pb.ScoreMatchRequest(company="companies/acme", target="programs/p-full"), metadata=alice)
    assert scored.gate == pb.MATCH_GATE_BLOCKED
    service = bearer(token("svc-billing", roles=("service",)))
    check = pb.CheckBlockedRequest(page_a="companies/acme", page_b="programs/p-full")
    assert stub.CheckBlocked(check, metadata=service).blocked
    with pytest.raises(grpc.RpcError) as call:
        stub.CheckBlocked(check, metadata=alice)
    assert code_of(call) == grpc.StatusCode.PERMISSION_DENIED
    assert list(stub.ListBlocks(pb.ListBlocksRequest(parent="companies/acme"), metadata=alice).blocks) == []
    assert [b.reason for b in stub.ListBlocks(pb.ListBlocksRequest(parent="programs/p-full"), metadata=pat).blocks] == [
        "spam"
    ]
    with pytest.raises(grpc.RpcError) as call:
        self_block = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/p-full")
        stub.CreateBlock(pb.CreateBlockRequest(parent="programs/p-full", block=pb.Block(page=self_block)), metadata=pat)
    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    stub.DeleteBlock(pb.DeleteBlockRequest(name=block.name), metadata=pat)
    assert not stub.CheckBlocked(check, metadata=service).blocked
    assert len(stub.ListCompanyMatches(listing, metadata=alice).matches) == 3


def test_pagination_walks_every_match_once(stub: Stub, world: PageWorld, token: TokenFactory) -> None:
    world.add("companies/acme", owner="alice")
    alice, pat = bearer(token("alice")), bearer(token("pat", roles=("program",)))
    set_profile(stub, "companies/acme", alice, crit(IND, "fintech", "retail", "edtech"))
    industries = ["fintech", "retail", "edtech", "energy", "media"]
    for i in range(23):
        name = f"programs/q{i:02d}"
        world.add(name, owner="pat")
        set_profile(stub, name, pat, crit(IND, *industries[: 1 + i % 5]))
    seen, token_ = [], ""
    while True:
        page = stub.ListCompanyMatches(
            pb.ListCompanyMatchesRequest(
                parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=4, page_token=token_
            ),
            metadata=alice,
        )
        assert page.total_size == 23
        seen += [(m.score, m.summary.page.name) for m in page.matches]
        token_ = page.next_page_token
        if not token_:
            break
    assert len(seen) == 23 and len({n for _, n in seen}) == 23
    assert seen == sorted(seen, key=lambda item: (-item[0], item[1]))
    with pytest.raises(grpc.RpcError) as call:
        stub.ListCompanyMatches(
            pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=-1),
            metadata=alice,
        )
    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    capped = stub.ListCompanyMatches(
        pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=10_000),
        metadata=alice,
    )
    assert len(capped.matches) == 23


def test_investor_matches_need_a_company_looking_for_funding(stub: Stub, world: PageWorld, token: TokenFactory) -> None:
    world.add("companies/acme", owner="alice")
    world.add("investors/vc", owner="ivan")
    alice, ivan = bearer(token("alice")), bearer(token("ivan", roles=("investor",)))
    set_profile(
        stub,
        "investors/vc",
        ivan,
        crit(STAGE, "series_a"),
        ticket_range=pb.TicketRange(min=eur(1_000_000), max=eur(3_000_000)),
    )
    set_profile(
        stub,
        "companies/acme",
        alice,
        crit(STAGE, "seed"),
        funding_need=pb.FundingNeed(looking_for_funding=False, amount=eur(2_000_000)),
    )
    request = pb.ListInvestorMatchesRequest(parent="investors/vc")
    assert list(stub.ListInvestorMatches(request, metadata=ivan).matches) == []
    scored = stub.ScoreMatch(pb.ScoreMatchRequest(company="companies/acme", target="investors/vc"), metadata=alice)
    assert scored.gate == pb.MATCH_GATE_NOT_LOOKING_FOR_FUNDING
    set_profile(
        stub,
        "companies/acme",
        alice,
        crit(STAGE, "seed"),
        funding_need=pb.FundingNeed(looking_for_funding=True, amount=eur(2_000_000)),
    )
    matches = stub.ListInvestorMatches(request, metadata=ivan).matches
    assert [m.summary.page.name for m in matches] == ["companies/acme"]
    assert matches[0].score == pytest.approx(75.0)  # (3 x 0.5 + 3 x 1) / 6


PERMISSIONS = [
    # (role on the page or None, realm roles, reads allowed, writes allowed)
    (PageRole.OWNER, ("isv",), True, True),
    (PageRole.ADMIN, ("isv",), True, True),
    (PageRole.EDITOR, ("isv",), True, True),
    (PageRole.VIEWER, ("isv",), True, False),
    (None, ("isv",), False, False),
    (None, ("admin",), True, False),
    (None, ("service",), True, False),
    ("other", ("isv",), False, False),  # owner of ANOTHER company, using this company's ids
]


@pytest.mark.parametrize(("role", "roles", "reads", "writes"), PERMISSIONS)
def test_permission_matrix(
    stub: Stub, world: PageWorld, token: TokenFactory, role: object, roles: tuple[str, ...], reads: bool, writes: bool
) -> None:
    world.add("companies/acme", owner="alice")
    world.add("companies/other", owner="bob")
    world.add("programs/p", owner="pat")
    if isinstance(role, PageRole):
        world.members["companies/acme"]["bob"] = role
    caller = bearer(token("bob", roles=roles))
    alice = bearer(token("alice"))
    set_profile(stub, "companies/acme", alice, crit(IND, "fintech"))
    fav = stub.CreateFavorite(
        pb.CreateFavoriteRequest(
            parent="companies/acme",
            favorite=pb.Favorite(page=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/p")),
        ),
        metadata=alice,
    )
    p = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/p")
    calls_read: list[Callable[[], object]] = [
        lambda: stub.GetCriteriaProfile(
            pb.GetCriteriaProfileRequest(name="companies/acme/criteriaProfile"), metadata=caller
        ),
        lambda: stub.ListCompanyMatches(
            pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM),
            metadata=caller,
        ),
        lambda: stub.ListFavorites(pb.ListFavoritesRequest(parent="companies/acme"), metadata=caller),
        lambda: stub.ListBlocks(pb.ListBlocksRequest(parent="companies/acme"), metadata=caller),
        lambda: stub.ScoreMatch(pb.ScoreMatchRequest(company="companies/acme", target="programs/p"), metadata=caller),
    ]
    calls_write: list[Callable[[], object]] = [
        lambda: set_profile(stub, "companies/acme", caller, crit(IND, "retail")),
        lambda: stub.CreateFavorite(
            pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=p)), metadata=caller
        ),
        lambda: stub.CreateBlock(
            pb.CreateBlockRequest(parent="companies/acme", block=pb.Block(page=p)), metadata=caller
        ),
        lambda: stub.DeleteFavorite(pb.DeleteFavoriteRequest(name=fav.name), metadata=caller),
    ]
    for calls, allowed in ((calls_read, reads), (calls_write, writes)):
        for call in calls:
            if allowed:
                call()
            else:
                with pytest.raises(grpc.RpcError) as error:
                    call()
                assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as error:  # anonymous
        stub.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name="companies/acme/criteriaProfile"))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert stub.GetTaxonomy(pb.GetTaxonomyRequest()).version == 1  # public

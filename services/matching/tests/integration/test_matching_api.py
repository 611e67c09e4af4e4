"""The matching service through gRPC on PostgreSQL, with in-test page services: each RPC wired, a
refusal of each mapped to its status and details, authentication and access policies, page tokens
bound to their caller, events written to the outbox. (The rules themselves: tests/unit.)"""

from __future__ import annotations

from pathlib import Path

import grpc
from sqlalchemy import Engine, select

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import events_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import CallerFactory

from ..conftest import PageWorld, make_settings, start_matching
from ..protos import IND, Stub, crit, eur, set_profile

FINTECH = {"industries": ["fintech"]}  # what the page says (its service's fields)
INVALID, DENIED, NOT_FOUND = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
)


def outbox(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(exchange, routing key, event type, body) of every event written, in order."""
    columns = (
        outbox_messages.c.exchange,
        outbox_messages.c.routing_key,
        outbox_messages.c.event_type,
        outbox_messages.c.body,
    )
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(outbox_messages.c.id))
        return [(str(e), str(k), str(t), str(b)) for e, k, t, b in rows]


def test_every_rpc_is_served_and_maps_its_refusals(
    stub: Stub, world: PageWorld, callers: CallerFactory, service: object
) -> None:
    alice, pat, eve = callers("alice").metadata, callers("pat", ("program",)).metadata, callers("eve").metadata
    billing = callers("svc-billing", ("service",)).metadata
    world.add("companies/acme", owner="alice", display_name="Acme", facts={"industries": ["fintech", "retail"]})
    world.add("programs/p", owner="pat", display_name="Partner Program", facts=FINTECH)
    world.add("programs/q", owner="pat", facts={"industries": ["retail", "edtech"]})

    # -- taxonomy ------------------------------------------------------------------------------------
    assert stub.GetTaxonomy(pb.GetTaxonomyRequest(), metadata=alice).version == 1
    assert failure(lambda: stub.GetTaxonomy(pb.GetTaxonomyRequest(version=7), metadata=alice)) == Failure(
        NOT_FOUND, "NOT_FOUND"
    )
    found = stub.ListCriteria(pb.ListCriteriaRequest(parent="dimensions/industry", query="FINT"), metadata=alice)
    assert [c.name for c in found.criteria] == ["dimensions/industry/criteria/fintech"]
    bad_parent = failure(lambda: stub.ListCriteria(pb.ListCriteriaRequest(parent="dimensions/nope"), metadata=alice))
    assert (bad_parent.code, bad_parent.fields) == (INVALID, ["parent"])

    # -- profiles -------------------------------------------------------------------------------------
    saved = set_profile(stub, "companies/acme", alice, crit(pb.DIMENSION_BUSINESS_MODEL, "saas"))
    got = stub.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name="companies/acme/criteriaProfile"), metadata=alice)
    assert got == saved and saved.taxonomy_version == 1 and saved.update_time.seconds > 0
    assert [(c.dimension, list(c.codes)) for c in saved.criteria] == [
        (IND, ["fintech", "retail"]),  # the page's
        (pb.DIMENSION_BUSINESS_MODEL, ["saas"]),
    ]
    assert IND in saved.page_dimensions and pb.DIMENSION_BUSINESS_MODEL not in saved.page_dimensions
    invalid = failure(
        lambda: set_profile(
            stub, "companies/acme", alice, crit(IND, "fintech"), ticket_range=pb.TicketRange(min=eur(1), max=eur(2))
        )
    )
    assert (invalid.code, invalid.reason) == (INVALID, "INVALID_ARGUMENT")
    assert invalid.fields == ["criteria_profile.criteria[industry].codes", "criteria_profile.ticket_range"]
    assert failure(lambda: set_profile(stub, "companies/acme", eve)) == Failure(DENIED, "PAGE_PERMISSION_DENIED")
    set_profile(stub, "programs/p", pat)  # wants fintech: 100, announced
    set_profile(stub, "programs/q", pat)  # wants retail and edtech: 50

    # -- scores and matches -------------------------------------------------------------------------------
    scored = stub.ScoreMatch(pb.ScoreMatchRequest(company="companies/acme", target="programs/p"), metadata=alice)
    assert (scored.eligible, scored.score, scored.gate) == (True, 100.0, pb.MATCH_GATE_UNSPECIFIED)
    assert failure(
        lambda: stub.ScoreMatch(pb.ScoreMatchRequest(company="companies/acme", target="programs/p"), metadata=eve)
    ) == Failure(DENIED, "PAGE_PERMISSION_DENIED")
    listing = pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=1)
    first = stub.ListCompanyMatches(listing, metadata=alice)
    assert [m.summary.display_name for m in first.matches] == ["Partner Program"] and first.total_size == 2
    listing.page_token = first.next_page_token
    assert [m.summary.page.name for m in stub.ListCompanyMatches(listing, metadata=alice).matches] == ["programs/q"]
    listing.min_score = 60  # a token from other filters
    assert failure(lambda: stub.ListCompanyMatches(listing, metadata=alice)).fields == ["page_token"]
    program = stub.ListProgramMatches(pb.ListProgramMatchesRequest(parent="programs/p"), metadata=pat)
    assert [(m.summary.page.name, m.score) for m in program.matches] == [("companies/acme", 100.0)]
    # acme's plan shows one match (billing's GetEntitlements, asked as matching): the other is counted, not shown.
    world.caps["companies/acme"] = 1
    capped = stub.ListCompanyMatches(
        pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM), metadata=alice
    )
    assert [m.summary.page.name for m in capped.matches] == ["programs/p"] and not capped.next_page_token
    assert (capped.total_size, capped.hidden_match_count) == (1, 1)
    del world.caps["companies/acme"]
    no_investor = failure(
        lambda: stub.ListInvestorMatches(pb.ListInvestorMatchesRequest(parent="investors/vc"), metadata=alice)
    )
    assert no_investor == Failure(DENIED, "PAGE_PERMISSION_DENIED")
    assert failure(
        lambda: stub.ListInvestorMatches(pb.ListInvestorMatchesRequest(parent="programs/p"), metadata=alice)
    ).fields == ["parent"]

    # -- favorites and blocks ------------------------------------------------------------------------------
    p_ref = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/p")
    favorite = stub.CreateFavorite(
        pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=p_ref)), metadata=alice
    )
    assert favorite.summary.display_name == "Partner Program" and favorite.creator == "alice"
    listed = stub.ListFavorites(pb.ListFavoritesRequest(parent="companies/acme"), metadata=alice)
    assert [f.name for f in listed.favorites] == [favorite.name]
    stub.DeleteFavorite(pb.DeleteFavoriteRequest(name=favorite.name), metadata=alice)
    assert failure(
        lambda: stub.DeleteFavorite(pb.DeleteFavoriteRequest(name=favorite.name), metadata=alice)
    ) == Failure(NOT_FOUND, "NOT_FOUND")
    ghost = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/ghost")
    missing = failure(
        lambda: stub.CreateFavorite(
            pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=ghost)), metadata=alice
        )
    )
    assert missing == Failure(NOT_FOUND, "PAGE_NOT_FOUND")
    acme = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name="companies/acme")
    block = stub.CreateBlock(
        pb.CreateBlockRequest(parent="programs/p", block=pb.Block(page=acme, reason="spam")), metadata=pat
    )
    assert block.summary.display_name == "Acme"
    self_block = failure(
        lambda: stub.CreateBlock(pb.CreateBlockRequest(parent="programs/p", block=pb.Block(page=p_ref)), metadata=pat)
    )
    assert (self_block.code, self_block.fields) == (INVALID, ["block.page"])
    blocks = stub.ListBlocks(pb.ListBlocksRequest(parent="programs/p"), metadata=pat)
    assert [b.reason for b in blocks.blocks] == ["spam"]
    check = pb.CheckBlockedRequest(page_a="companies/acme", page_b="programs/p")
    answer = stub.CheckBlocked(check, metadata=billing)
    assert (answer.blocked, answer.cache_ttl_seconds) == (True, 30)
    stub.DeleteBlock(pb.DeleteBlockRequest(name=block.name), metadata=pat)
    assert not stub.CheckBlocked(check, metadata=billing).blocked

    # -- events, through the outbox, on the matching exchange -------------------------------------------
    written = outbox(service.engine)  # type: ignore[attr-defined]
    assert {(e, k) for e, k, _, _ in written} == {(topology.MATCHING, topology.direct_routing_key(topology.MATCHING))}
    types = [t.rsplit(".", 1)[1] for _, _, t, _ in written]
    updated = "CriteriaProfileUpdated"
    assert types == [updated, updated, "MatchFound", updated, "BlockCreated", "BlockDeleted"]
    match = unpack_payload(from_json(written[2][3]), events_pb2.MatchFound)
    assert (match.company, match.target.name, match.score) == ("companies/acme", "programs/p", 100.0)
    assert (match.company_summary.display_name, match.target_summary.display_name) == ("Acme", "Partner Program")


def test_authentication_access_policies_and_tokens_bound_to_their_caller(
    stub: Stub, world: PageWorld, callers: CallerFactory
) -> None:
    world.add("companies/acme", owner="alice", facts=FINTECH)
    for i in range(3):
        world.add(f"programs/p{i}", owner="pat", facts=FINTECH)
    alice, pat = callers("alice").metadata, callers("pat", ("program",)).metadata
    set_profile(stub, "companies/acme", alice)
    for i in range(3):
        set_profile(stub, f"programs/p{i}", pat)
    anonymous = failure(
        lambda: stub.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name="companies/acme/criteriaProfile"))
    )
    assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED
    assert stub.GetTaxonomy(pb.GetTaxonomyRequest()).version == 1  # public
    assert stub.ListCriteria(pb.ListCriteriaRequest(parent="dimensions/country", page_size=3)).next_page_token
    check = pb.CheckBlockedRequest(page_a="companies/acme", page_b="programs/p0")
    assert failure(lambda: stub.CheckBlocked(check, metadata=alice)).code == DENIED  # services only
    listing = pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=2)
    first = stub.ListCompanyMatches(listing, metadata=alice)
    listing.page_token = first.next_page_token
    staff = callers("root", ("admin",)).metadata  # may read acme's matches, not with alice's token
    assert failure(lambda: stub.ListCompanyMatches(listing, metadata=staff)).fields == ["page_token"]
    assert len(stub.ListCompanyMatches(listing, metadata=alice).matches) == 1


def test_the_service_runs_on_sqlite(
    tmp_path: Path, page_services: str, world: PageWorld, callers: CallerFactory
) -> None:
    """The embedded default: migrations, the index, the outbox and the lists on a SQLite file."""
    settings = make_settings(tmp_path, f"sqlite+pysqlite:///{tmp_path / 'matching.sqlite3'}", "matching", page_services)
    running = start_matching(settings)
    try:
        world.add("companies/acme", owner="alice", facts=FINTECH)
        world.add("programs/p", owner="pat", facts=FINTECH)
        alice, pat = callers("alice").metadata, callers("pat", ("program",)).metadata
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = Stub(channel)
            set_profile(stub, "companies/acme", alice)
            set_profile(stub, "programs/p", pat)
            request = pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM)
            assert [m.score for m in stub.ListCompanyMatches(request, metadata=alice).matches] == [100.0]
            ref = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/p")
            stub.CreateFavorite(
                pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=ref)), metadata=alice
            )
            assert [m.favorite for m in stub.ListCompanyMatches(request, metadata=alice).matches] == [True]
        assert [t.rsplit(".", 1)[1] for _, _, t, _ in outbox(running.engine)] == [
            "CriteriaProfileUpdated",
            "CriteriaProfileUpdated",
            "MatchFound",
        ]
    finally:
        running.stop(grace=0)

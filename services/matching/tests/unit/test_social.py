"""Favorites and blocks: created once, listed newest first, and what a block does to the matches."""

from __future__ import annotations

from typing import Any

import grpc

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.pages.names import PageKind
from devinsider_common.testing.failures import failure
from devinsider_common.testing.tokens import principal
from matching_service.domain.gates import Gate
from matching_service.domain.matches import MatchFilters
from matching_service.domain.social import MAX_REASON, Block, Favorite

from ..fakes import FakeMatchingUnitOfWork, MemoryBlocks, MemoryFavorites, World
from .helpers import ALICE, NO_CONTEXT, PAT, market, page, rpc

ACME, FULL, HALF = page("companies/acme"), page("programs/p-full"), page("programs/p-half")


def listed(matching: World, **filters: Any) -> list[str]:
    found = matching.app.matches.list_matches(ALICE, ACME, PageKind.PROGRAM, 0, "", MatchFilters(**filters))
    return [i.page.name for i in found.items]


def test_favorites_are_created_once_flagged_listed_and_removed(matching: World) -> None:
    market(matching)
    social = matching.app.social
    favorite = social.add_favorite(ALICE, ACME, HALF)
    again = social.add_favorite(ALICE, ACME, HALF)
    assert again.favorite == favorite.favorite and favorite.favorite.creator == "alice"
    assert favorite.status is not None and favorite.status.display_name == "p-half"
    flags = {
        i.page.name: i.favorite
        for i in matching.app.matches.list_matches(ALICE, ACME, PageKind.PROGRAM, 0, "", MatchFilters()).items
    }
    assert flags == {"programs/p-full": False, "programs/p-half": True, "programs/p-twin": False}
    assert listed(matching, favorites_only=True) == ["programs/p-half"]
    newer = social.add_favorite(ALICE, ACME, FULL)
    # Newest first: by id (UUIDv7, which orders by creation time to the millisecond).
    newest_first = sorted([favorite.favorite, newer.favorite], key=lambda f: f.id, reverse=True)
    views, token = social.list_favorites(ALICE, ACME, 0, "", None)
    assert [v.favorite for v in views] == newest_first and token == ""
    assert {v.favorite.page: v.status.display_name for v in views if v.status} == {FULL: "p-full", HALF: "p-half"}
    first, token = social.list_favorites(ALICE, ACME, 1, "", PageKind.PROGRAM)
    rest, last = social.list_favorites(ALICE, ACME, 1, token, PageKind.PROGRAM)
    assert [v.favorite for v in first + rest] == newest_first and last == ""
    assert social.list_favorites(ALICE, ACME, 0, "", PageKind.INVESTOR) == ([], "")
    del matching.pages.pages[FULL.name]  # no longer returned: the last stored summary is shown
    stored = social.list_favorites(ALICE, ACME, 0, "", None)[0]
    assert {v.favorite.page: v.status.display_name for v in stored if v.status} == {FULL: "p-full", HALF: "p-half"}
    social.remove_favorite(ALICE, ACME, favorite.favorite.id)
    assert listed(matching, favorites_only=True) == ["programs/p-full"]
    gone = failure(lambda: social.remove_favorite(ALICE, ACME, favorite.favorite.id))
    assert (gone.code, gone.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert (
        failure(lambda: social.remove_favorite(PAT, ACME, newer.favorite.id)).code == grpc.StatusCode.PERMISSION_DENIED
    )
    ghost = failure(lambda: social.add_favorite(ALICE, ACME, page("programs/ghost")))
    assert (ghost.code, ghost.reason) == (grpc.StatusCode.NOT_FOUND, "PAGE_NOT_FOUND")
    itself = failure(lambda: social.add_favorite(ALICE, ACME, ACME))
    assert (itself.code, itself.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["favorite.page"])


class StaleFavorites(MemoryFavorites):
    """Misses the favorite a concurrent call committed after this transaction began."""

    def find(self, owner: str, page: str) -> Favorite | None:
        return None


class StaleBlocks(MemoryBlocks):
    def find(self, blocker: str, page: str) -> Block | None:
        return None


class StaleUnitOfWork(FakeMatchingUnitOfWork):
    def _open_repositories(self) -> None:
        super()._open_repositories()
        self.favorites = StaleFavorites(self.table("favorites"))
        self.blocks = StaleBlocks(self.table("blocks"))


def test_a_favorite_or_block_a_concurrent_call_created_is_returned_not_duplicated() -> None:
    first = World()
    market(first)
    favorite = first.app.social.add_favorite(ALICE, ACME, HALF)
    block = first.app.social.block(PAT, FULL, ACME, "")
    opened: list[FakeMatchingUnitOfWork] = []

    def racing(
        read_only: bool = False,
    ) -> FakeMatchingUnitOfWork:  # each write reads stale, the look for the twin does not
        stale = len(opened) % 2 == 0
        opened.append(StaleUnitOfWork(first.store) if stale else FakeMatchingUnitOfWork(first.store))
        return opened[-1]

    second = World(store=first.store, pages=first.pages, uow=racing).app.social
    assert second.add_favorite(ALICE, ACME, HALF).favorite == favorite.favorite  # its insert met the unique key
    assert second.block(PAT, FULL, ACME, "").block == block.block
    assert len(opened) == 4
    with first.read() as uow:
        assert uow.favorites.pages_of(ACME.name) == {HALF.name} and uow.blocks.counterparts(ACME.name) == {FULL.name}
    assert [kind for kind, _ in first.store.events() if kind.startswith("block")] == ["block_created"]


def test_a_block_leaves_both_sides_and_only_its_page_lifts_it(matching: World) -> None:
    market(matching)
    social = matching.app.social
    block = social.block(PAT, FULL, ACME, "  spam  ")
    assert block.block.reason == "spam" and block.status is not None and block.status.display_name == "Acme"
    assert social.block(PAT, FULL, ACME, "again").block == block.block  # once
    assert listed(matching) == ["programs/p-half", "programs/p-twin"]
    own = matching.app.matches.list_matches(PAT, FULL, PageKind.COMPANY, 0, "", MatchFilters())
    assert own.items == []
    assert matching.app.matches.score(ALICE, ACME, FULL).gate is Gate.BLOCKED
    assert social.blocked(ACME, FULL) and social.blocked(FULL, ACME) and not social.blocked(ACME, HALF)
    assert social.list_blocks(ALICE, ACME, 0, "") == ([], "")
    views, _ = social.list_blocks(PAT, FULL, 0, "")
    assert [v.block for v in views] == [block.block] and views[0].status == block.status
    assert failure(lambda: social.unblock(ALICE, FULL, block.block.id)).code == grpc.StatusCode.PERMISSION_DENIED
    assert failure(lambda: social.unblock(PAT, HALF, block.block.id)).code == grpc.StatusCode.NOT_FOUND
    social.unblock(PAT, FULL, block.block.id)
    assert not social.blocked(ACME, FULL) and len(listed(matching)) == 3
    assert [kind for kind, _ in matching.store.events() if kind.startswith("block")] == [
        "block_created",
        "block_deleted",
    ]
    assert failure(lambda: social.unblock(PAT, FULL, block.block.id)).code == grpc.StatusCode.NOT_FOUND


def test_a_block_is_refused_naming_the_bad_field(matching: World) -> None:
    market(matching)
    social = matching.app.social
    cases = [
        (lambda: social.block(PAT, FULL, FULL, ""), grpc.StatusCode.INVALID_ARGUMENT, ["block.page"]),
        (
            lambda: social.block(PAT, FULL, ACME, "x" * (MAX_REASON + 1)),
            grpc.StatusCode.INVALID_ARGUMENT,
            ["block.reason"],
        ),
        (lambda: social.block(PAT, FULL, ACME, "a\x00b"), grpc.StatusCode.INVALID_ARGUMENT, ["block.reason"]),
        (lambda: social.block(PAT, FULL, page("companies/ghost"), ""), grpc.StatusCode.NOT_FOUND, []),
        (lambda: social.block(ALICE, FULL, ACME, ""), grpc.StatusCode.PERMISSION_DENIED, []),
    ]
    for call, code, fields in cases:
        refused = failure(call)
        assert (refused.code, refused.fields) == (code, fields)
    assert social.block(PAT, FULL, ACME, "line\nbreak\tand tab").block.reason == "line\nbreak\tand tab"


def test_the_servicer_maps_favorites_blocks_and_check_blocked() -> None:
    matching = World(settings=World().settings.model_copy(update={"check_blocked_cache_ttl_seconds": 7}))
    market(matching)
    half = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_PROGRAM, name="programs/p-half")
    create = pb.CreateFavoriteRequest(parent="companies/acme", favorite=pb.Favorite(page=half))
    favorite = rpc(matching, ALICE, lambda s: s.CreateFavorite(create, NO_CONTEXT))
    assert favorite.name.startswith("companies/acme/favorites/") and favorite.summary.display_name == "p-half"
    assert favorite.creator == "alice" and favorite.page == half
    listing = pb.ListFavoritesRequest(parent="companies/acme", kind=page_pb2.PAGE_KIND_PROGRAM)
    assert [f.name for f in rpc(matching, ALICE, lambda s: s.ListFavorites(listing, NO_CONTEXT)).favorites] == [
        favorite.name
    ]
    bad_kind = pb.ListFavoritesRequest(parent="companies/acme", kind=42)  # type: ignore[arg-type]
    assert failure(lambda: rpc(matching, ALICE, lambda s: s.ListFavorites(bad_kind, NO_CONTEXT))).fields == ["kind"]
    mismatch = pb.CreateFavoriteRequest(
        parent="companies/acme",
        favorite=pb.Favorite(page=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_INVESTOR, name=half.name)),
    )
    refused = failure(lambda: rpc(matching, ALICE, lambda s: s.CreateFavorite(mismatch, NO_CONTEXT)))
    assert refused.fields == ["favorite.page.kind"]
    rpc(matching, ALICE, lambda s: s.DeleteFavorite(pb.DeleteFavoriteRequest(name=favorite.name), NO_CONTEXT))
    bad_name = pb.DeleteFavoriteRequest(name="companies/acme/blocks/x")
    assert failure(lambda: rpc(matching, ALICE, lambda s: s.DeleteFavorite(bad_name, NO_CONTEXT))).fields == ["name"]

    acme = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name="companies/acme")
    block_request = pb.CreateBlockRequest(parent="programs/p-full", block=pb.Block(page=acme, reason="spam"))
    block = rpc(matching, PAT, lambda s: s.CreateBlock(block_request, NO_CONTEXT))
    assert block.reason == "spam" and block.summary.display_name == "Acme" and block.creator == "pat"
    blocks = rpc(matching, PAT, lambda s: s.ListBlocks(pb.ListBlocksRequest(parent="programs/p-full"), NO_CONTEXT))
    assert [b.name for b in blocks.blocks] == [block.name]
    service = principal("svc-billing", ("service",))
    check = pb.CheckBlockedRequest(page_a="companies/acme", page_b="programs/p-full")
    answer = rpc(matching, service, lambda s: s.CheckBlocked(check, NO_CONTEXT))
    assert (answer.blocked, answer.cache_ttl_seconds) == (True, 7)  # the cache time comes from the settings
    rpc(matching, PAT, lambda s: s.DeleteBlock(pb.DeleteBlockRequest(name=block.name), NO_CONTEXT))
    assert not rpc(matching, service, lambda s: s.CheckBlocked(check, NO_CONTEXT)).blocked
    empty = failure(lambda: rpc(matching, service, lambda s: s.CheckBlocked(pb.CheckBlockedRequest(), NO_CONTEXT)))
    assert (empty.code, empty.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_a", "page_b"])

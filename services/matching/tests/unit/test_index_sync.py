"""Every replica's index follows the change log: its own writes at once, the others' by polling."""

from __future__ import annotations

import pytest

from devinsider_common.pages.names import PageKind
from devinsider_common.testing.polling import wait_for
from matching_service.domain.matches import MatchFilters

from ..fakes import FakeMatchingUnitOfWork, MatchingStore, World
from .helpers import ALICE, IND, PAT, page, set_profile

ACME = page("companies/acme")


def scores(replica: World) -> list[float]:
    listed = replica.app.matches.list_matches(ALICE, ACME, PageKind.PROGRAM, 0, "", MatchFilters())
    return [i.score for i in listed.items]


def test_a_change_on_one_replica_reaches_the_other_by_polling() -> None:
    one = World()
    two = World(store=one.store, pages=one.pages)  # the same database and page services
    one.pages.add("companies/acme", owner="alice")
    one.pages.add("programs/p", owner="pat")
    assert scores(two) == []  # loaded (empty) before the changes
    set_profile(one, ALICE, "companies/acme", {IND: ("fintech", "retail")})
    set_profile(one, PAT, "programs/p", {IND: ("fintech",)})
    assert scores(one) == [100.0] and scores(two) == []
    stop = two.app.sync.start_polling(0.01)
    try:
        assert wait_for(lambda: scores(two) == [100.0], timeout=5)
        set_profile(two, PAT, "programs/p", {IND: ("fintech", "edtech")})  # now written on the other replica
        assert scores(two) == [50.0]
        assert one.app.sync.catch_up() == 1 and scores(one) == [50.0] and one.app.sync.seq == two.app.sync.seq
    finally:
        stop()


class Unreachable(FakeMatchingUnitOfWork):
    def __enter__(self) -> Unreachable:
        raise ConnectionError("the database is away")


def test_polling_survives_a_failed_catch_up_and_stops_when_told() -> None:
    store = MatchingStore()
    broken = World(store=store, uow=lambda read_only=False: Unreachable(store))
    failures: list[str] = []
    original = broken.app.sync.catch_up

    def counted() -> int:
        failures.append("tried")
        return original()

    broken.app.sync.catch_up = counted  # type: ignore[method-assign]
    stop = broken.app.sync.start_polling(0.01)
    assert wait_for(lambda: len(failures) >= 2, timeout=5)  # it kept polling after the first failure
    stop()
    tried = len(failures)
    assert not wait_for(lambda: len(failures) > tried + 1, timeout=0.1)


def test_an_unseeded_store_is_refused_at_load() -> None:
    store = MatchingStore()
    store.taxonomies.clear()
    with pytest.raises(RuntimeError, match="not seeded"):
        World(store=store).app.sync.catch_up()


def test_a_page_without_a_profile_leaves_the_index(matching: World) -> None:
    matching.pages.add("companies/acme", owner="alice")
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech",)})
    index = matching.app.sync.index()
    assert "companies/acme" in index
    index.upsert(PageKind.COMPANY, "companies/acme", None, None)
    assert "companies/acme" not in index

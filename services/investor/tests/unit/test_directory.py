"""ListInvestors as a use case: windows and page tokens, size limits, the caller's own pages, refusals."""

from __future__ import annotations

import grpc
import pytest

from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from investor_service.domain.query import InvestorQuery, Order

from ..fakes import World, build_page, new_profile, person, unit_settings, world

BAD_TOKEN = Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["page_token"])


def _fill(w: World, count: int, name: str = "Twin Fund") -> None:
    for index in range(count):
        w.clock.advance(seconds=1)
        w.app.investors.create(person(f"kc-{index}"), new_profile(name), "")


@pytest.mark.parametrize("order", list(Order))
def test_page_tokens_walk_the_whole_directory_once(order: Order) -> None:
    w = world()
    _fill(w, 8)
    query = InvestorQuery(order=order)
    full = w.app.investors.list_investors(None, query, False, 100, "")
    assert full.next_page_token == "" and full.total_size == 8
    seen: list[str] = []
    token = ""
    while True:
        window = w.app.investors.list_investors(None, query, False, 3, token)
        assert len(window.investors) <= 3 and window.total_size == 8
        seen += [v.investor.id for v in window.investors]
        token = window.next_page_token
        if not token:
            break
    assert seen == [v.investor.id for v in full.investors] and len(set(seen)) == 8


def test_page_sizes_default_and_are_capped_by_the_settings() -> None:
    w = world(unit_settings(max_page_size=4, default_page_size=2))
    _fill(w, 6)
    assert len(w.app.investors.list_investors(None, InvestorQuery(), False, 1000, "").investors) == 4
    assert len(w.app.investors.list_investors(None, InvestorQuery(), False, 0, "").investors) == 2
    negative = failure(lambda: w.app.investors.list_investors(None, InvestorQuery(), False, -1, ""))
    assert negative.fields == ["page_size"]


def test_a_token_works_only_with_its_own_filters_and_order() -> None:
    w = world()
    _fill(w, 3)
    query = InvestorQuery(funding_stages=())
    token = w.app.investors.list_investors(None, query, False, 1, "").next_page_token
    assert token
    for other in (InvestorQuery(industries=("proptech",)), InvestorQuery(order=Order.CREATE_TIME_DESC)):
        assert failure(lambda o=other: w.app.investors.list_investors(None, o, False, 1, token)) == BAD_TOKEN  # type: ignore[misc]
    assert failure(lambda: w.app.investors.list_investors(None, query, False, 1, "garbage")) == BAD_TOKEN
    assert len(w.app.investors.list_investors(None, query, False, 1, token).investors) == 1


def test_caller_is_member_lists_the_callers_pages_in_the_public_view() -> None:
    w = world()
    mine = build_page(w, "alpha", roles=("viewer",))
    build_page(w, "beta", roles=())
    listed = w.app.investors.list_investors(person("alpha-viewer"), InvestorQuery(), True, 0, "")
    assert [(v.investor.id, v.role, v.full) for v in listed.investors] == [(mine.id, PageRole.VIEWER, False)]
    assert listed.total_size == 1
    everyone = w.app.investors.list_investors(person("alpha-viewer"), InvestorQuery(), False, 0, "")
    assert [(v.role, v.full) for v in everyone.investors] == [(PageRole.VIEWER, False), (None, False)]
    anonymous = failure(lambda: w.app.investors.list_investors(None, InvestorQuery(), True, 0, ""))
    assert anonymous == Failure(grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")

"""A warm ListCompanyMatches makes one round trip to matching's own database (how it is counted: conftest.py):
the pages the company blocked or was blocked by and its favorites, one statement in autocommit (a read-only
unit of work); the ranking is the in-memory index's. The caller's permission (the company service's
CheckPageAccess, cached) and the listed pages' summaries (the program service's BatchGetPrograms) are other
services' answers: those run in their own processes on their own schemas, so their database work is counted
on their proxies, not here."""

from __future__ import annotations

import pytest

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import matching_pb2, matching_pb2_grpc

from .conftest import CALLS, Pages, Served

pytestmark = pytest.mark.postgres


def test_a_warm_match_list_is_one_round_trip_to_matchings_database(pages: Pages, matching: Served) -> None:
    stub = matching_pb2_grpc.MatchingServiceStub(matching.channel)
    request = matching_pb2.ListCompanyMatchesRequest(
        parent=pages.names["company"], target_kind=page_pb2.PAGE_KIND_PROGRAM, page_size=10
    )
    alice = pages.who("kc-alice", "isv")
    answer = stub.ListCompanyMatches(request, metadata=alice)
    listed = [(m.summary.page.name, m.summary.display_name, m.favorite) for m in answer.matches]
    assert listed == [(pages.names["program"], "Azure Partners", True)]  # the favorite came from the statement
    trips, ran = matching.round_trips(lambda: stub.ListCompanyMatches(request, metadata=alice))
    assert trips == CALLS, ran

"""Two replicas on one PostgreSQL schema stay in step: each one's index follows the other's writes."""

from __future__ import annotations

from pathlib import Path

import grpc

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tokens import CallerFactory

from ..conftest import PageWorld, make_settings, start_matching
from ..protos import STAGE, Stub, crit, set_profile


def test_a_change_on_one_replica_reaches_the_other(
    tmp_path: Path, database: tuple[str, str], page_services: str, world: PageWorld, callers: CallerFactory
) -> None:
    one = start_matching(make_settings(tmp_path, *database, page_services, index_poll_interval_seconds=0.05))
    two = start_matching(make_settings(tmp_path, *database, page_services, index_poll_interval_seconds=0.05))
    alice, pat = callers("alice").metadata, callers("pat", ("program",)).metadata
    world.add("companies/acme", owner="alice", facts={"industries": ["fintech", "retail"]})
    world.add("programs/p", owner="pat", facts={"industries": ["fintech"]})
    listing = pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{one.port}") as c1, grpc.insecure_channel(f"127.0.0.1:{two.port}") as c2:
            s1, s2 = Stub(c1), Stub(c2)
            set_profile(s1, "companies/acme", alice)
            set_profile(s1, "programs/p", pat)
            assert [m.score for m in s1.ListCompanyMatches(listing, metadata=alice).matches] == [100.0]
            assert wait_for(
                lambda: [m.score for m in s2.ListCompanyMatches(listing, metadata=alice).matches] == [100.0]
            )
            world.pages["programs/p"].facts = {"industries": ["fintech", "edtech"]}  # the page edited ...
            set_profile(s2, "programs/p", pat, crit(STAGE))  # ... then its profile, on the other replica
            assert [m.score for m in s2.ListCompanyMatches(listing, metadata=alice).matches] == [50.0]
            assert wait_for(lambda: [m.score for m in s1.ListCompanyMatches(listing, metadata=alice).matches] == [50.0])
            assert one.app.sync.seq == two.app.sync.seq
    finally:
        one.stop(grace=0)
        two.stop(grace=0)

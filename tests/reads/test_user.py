"""A warm GetMe makes one round trip to the user service's database (how it is counted: conftest.py): the
caller's user by subject, read in autocommit; nothing is written while its roles match the token's. The access
rule (the service's own blacklist) is cached."""

from __future__ import annotations

import pytest

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.testing.tokens import CallerFactory

from .conftest import CALLS, Served

pytestmark = pytest.mark.postgres


def test_a_warm_get_me_is_one_round_trip(user: Served, reads_callers: CallerFactory) -> None:
    stub = user_pb2_grpc.UserServiceStub(user.channel)
    alice = reads_callers("kc-alice", roles=("isv",)).metadata
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=alice)  # the first call creates the user
    assert me.name and me == stub.GetMe(user_pb2.GetMeRequest(), metadata=alice)
    trips, ran = user.round_trips(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=alice))
    assert trips == CALLS, ran

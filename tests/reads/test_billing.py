"""A warm GetCreditBalance makes one round trip to billing's database (how it is counted: conftest.py): the
page's balance row and the credits of its lots expiring soon, one statement (`LedgerRepository.balance`). Its
permission check is the page service's CheckPageAccess, cached: no trip to billing's database."""

from __future__ import annotations

import pytest

from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc

from .conftest import CALLS, CREDITS, Pages, Served

pytestmark = pytest.mark.postgres


def test_a_warm_credit_balance_is_one_round_trip(pages: Pages, billing: Served) -> None:
    stub = billing_pb2_grpc.BillingServiceStub(billing.channel)
    request = billing_pb2.GetCreditBalanceRequest(name=f"{pages.names['company']}/creditBalance")
    alice = pages.who("kc-alice", "isv")
    answer = stub.GetCreditBalance(request, metadata=alice)
    assert (answer.balance, answer.expiring_soon) == (CREDITS, CREDITS)  # both halves of the statement
    trips, ran = billing.round_trips(lambda: stub.GetCreditBalance(request, metadata=alice))
    assert trips == CALLS, ran

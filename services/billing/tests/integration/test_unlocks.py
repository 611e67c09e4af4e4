"""Unlocks: credits spent once per target, refused for own and blocked pages, HasUnlocked."""

from __future__ import annotations

import grpc
import pytest

from billing_service.bootstrap import BillingService
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2
from devinsider_common.grpc.status import field_violations, from_rpc_error
from devinsider_common.pages.roles import PageRole

from ..conftest import TokenFactory, bearer
from ..helpers import PROGRAM, balance, failure, grant, unlock
from ..neighbours import Neighbours

ISV = "companies/isv-1"


@pytest.fixture
def spender(neighbours: Neighbours, token: TokenFactory) -> str:
    neighbours.add_member(PROGRAM, "kc-spender", PageRole.ADMIN)
    return token("kc-spender", roles=("program",))


@pytest.fixture
def admin(token: TokenFactory) -> str:
    return token("kc-staff", roles=("admin",))


def test_an_unlock_spends_the_configured_cost_once_and_never_expires(
    stub: billing_pb2_grpc.BillingServiceStub, spender: str, admin: str
) -> None:
    grant(stub, admin, PROGRAM, 3)
    first = unlock(stub, spender, ISV, "r1")
    assert first.cost == 1 and first.target.name == ISV and first.creator == "kc-spender"
    assert balance(stub, spender, PROGRAM) == 2
    assert unlock(stub, spender, ISV, "r1").name == first.name  # same request id
    assert unlock(stub, spender, ISV, "r2").name == first.name  # same target, other request id: costs nothing
    assert balance(stub, spender, PROGRAM) == 2
    got = stub.GetUnlock(billing_pb2.GetUnlockRequest(name=first.name), metadata=bearer(spender))
    assert got == first
    entry = stub.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(parent=PROGRAM, kind=billing_pb2.LEDGER_ENTRY_KIND_SPEND),
        metadata=bearer(spender),
    ).ledger_entries
    assert [(e.name, e.credits, e.balance_after, e.reference) for e in entry] == [
        (first.ledger_entry, -1, 2, first.name)
    ]


def test_a_request_id_reused_for_another_target_is_invalid(
    stub: billing_pb2_grpc.BillingServiceStub, spender: str, admin: str
) -> None:
    grant(stub, admin, PROGRAM, 3)
    unlock(stub, spender, ISV, "r1")
    code, _ = failure(lambda: unlock(stub, spender, "companies/other", "r1"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert balance(stub, spender, PROGRAM) == 2


def test_without_enough_credits_nothing_is_spent(stub: billing_pb2_grpc.BillingServiceStub, spender: str) -> None:
    assert failure(lambda: unlock(stub, spender, ISV, "r1")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INSUFFICIENT_CREDITS",
    )
    assert balance(stub, spender, PROGRAM) == 0
    listed = stub.ListUnlocks(billing_pb2.ListUnlocksRequest(parent=PROGRAM), metadata=bearer(spender))
    assert list(listed.unlocks) == []


def test_own_pages_blocked_pairs_and_pairs_not_offered_are_refused(
    stub: billing_pb2_grpc.BillingServiceStub, spender: str, admin: str, neighbours: Neighbours
) -> None:
    grant(stub, admin, PROGRAM, 5)
    neighbours.add_member("companies/mine", "kc-spender", PageRole.VIEWER)
    assert failure(lambda: unlock(stub, spender, "companies/mine", "a")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "OWN_PAGE",
    )
    neighbours.block(PROGRAM, "companies/foe")
    assert failure(lambda: unlock(stub, spender, "companies/foe", "b")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "BLOCKED",
    )
    assert failure(lambda: unlock(stub, spender, "investors/vc", "c")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "UNLOCK_NOT_OFFERED",
    )
    assert balance(stub, spender, PROGRAM) == 5


def test_pages_that_do_not_exist_or_are_not_active_are_refused_before_any_spend(
    stub: billing_pb2_grpc.BillingServiceStub, spender: str, admin: str, neighbours: Neighbours
) -> None:
    grant(stub, admin, PROGRAM, 5)
    neighbours.missing.update({"companies/ghost", "companies/deleted"})
    neighbours.states["companies/pending"] = company_pb2.COMPANY_STATE_CLAIM_PENDING
    for target in ("companies/ghost", "companies/deleted"):
        refused = failure(lambda name=target: unlock(stub, spender, name, name))
        assert refused == (grpc.StatusCode.NOT_FOUND, "UNLOCK_TARGET_NOT_FOUND")
    assert failure(lambda: unlock(stub, spender, "companies/pending", "p")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "UNLOCK_TARGET_INACTIVE",
    )
    # Nothing was spent nor recorded: no unlock, no ledger entry but the grant.
    assert balance(stub, spender, PROGRAM) == 5
    assert (
        list(stub.ListUnlocks(billing_pb2.ListUnlocksRequest(parent=PROGRAM), metadata=bearer(spender)).unlocks) == []
    )
    entries = stub.ListLedgerEntries(billing_pb2.ListLedgerEntriesRequest(parent=PROGRAM), metadata=bearer(admin))
    assert [e.kind for e in entries.ledger_entries] == [billing_pb2.LEDGER_ENTRY_KIND_GRANT]


def test_an_unlock_bought_before_its_target_was_deleted_is_still_answered(
    stub: billing_pb2_grpc.BillingServiceStub, spender: str, admin: str, neighbours: Neighbours
) -> None:
    grant(stub, admin, PROGRAM, 5)
    first = unlock(stub, spender, ISV, "r1")
    asked = neighbours.calls["BatchGet"]
    neighbours.missing.add(ISV)
    assert unlock(stub, spender, ISV, "r1").name == first.name  # a retry of the same call
    assert unlock(stub, spender, ISV, "r2").name == first.name  # the same target again
    assert neighbours.calls["BatchGet"] == asked  # replays never ask: they spend nothing
    assert balance(stub, spender, PROGRAM) == 4


def test_a_page_cannot_unlock_itself(
    stub: billing_pb2_grpc.BillingServiceStub, neighbours: Neighbours, token: TokenFactory, admin: str
) -> None:
    neighbours.add_member(ISV, "kc-isv", PageRole.OWNER)
    grant(stub, admin, ISV, 5)
    isv = token("kc-isv")
    request = billing_pb2.CreateUnlockRequest(
        parent=ISV, unlock=billing_pb2.Unlock(target=page_pb2.PageRef(name=ISV)), request_id="self"
    )
    assert failure(lambda: stub.CreateUnlock(request, metadata=bearer(isv))) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "OWN_PAGE",
    )


def test_bad_unlock_requests_name_the_field(stub: billing_pb2_grpc.BillingServiceStub, spender: str) -> None:
    cases = {
        "unlock.target.name": billing_pb2.CreateUnlockRequest(
            parent=PROGRAM, unlock=billing_pb2.Unlock(target=page_pb2.PageRef(name="users/x")), request_id="r"
        ),
        "unlock.target.kind": billing_pb2.CreateUnlockRequest(
            parent=PROGRAM,
            unlock=billing_pb2.Unlock(target=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_INVESTOR, name=ISV)),
            request_id="r",
        ),
        "request_id": billing_pb2.CreateUnlockRequest(
            parent=PROGRAM, unlock=billing_pb2.Unlock(target=page_pb2.PageRef(name=ISV))
        ),
        "parent": billing_pb2.CreateUnlockRequest(
            parent="nope", unlock=billing_pb2.Unlock(target=page_pb2.PageRef(name=ISV)), request_id="r"
        ),
    }
    for field, request in cases.items():
        with pytest.raises(grpc.RpcError) as error:
            stub.CreateUnlock(request, metadata=bearer(spender))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        status = from_rpc_error(error.value)
        assert status is not None and field in [v.field for v in field_violations(status)], field


def test_has_unlocked_answers_services_by_page_or_by_member(
    stub: billing_pb2_grpc.BillingServiceStub,
    spender: str,
    admin: str,
    token: TokenFactory,
    neighbours: Neighbours,
    service: BillingService,
) -> None:
    grant(stub, admin, PROGRAM, 2)
    unlock(stub, spender, ISV, "r1")
    svc = bearer(token("service-company", roles=("service",)))
    by_page = stub.HasUnlocked(billing_pb2.HasUnlockedRequest(target=ISV, unlocker=PROGRAM), metadata=svc)
    assert by_page.unlocked and list(by_page.unlockers) == [PROGRAM] and by_page.cache_ttl_seconds > 0
    other = stub.HasUnlocked(billing_pb2.HasUnlockedRequest(target=ISV, unlocker="programs/p2"), metadata=svc)
    assert not other.unlocked
    neighbours.add_member(PROGRAM, "kc-colleague", PageRole.VIEWER)
    by_member = stub.HasUnlocked(billing_pb2.HasUnlockedRequest(target=ISV, subject="kc-colleague"), metadata=svc)
    assert by_member.unlocked and list(by_member.unlockers) == [PROGRAM]
    stranger = stub.HasUnlocked(billing_pb2.HasUnlockedRequest(target=ISV, subject="kc-stranger"), metadata=svc)
    assert not stranger.unlocked and list(stranger.unlockers) == []
    with pytest.raises(grpc.RpcError) as error:
        stub.HasUnlocked(billing_pb2.HasUnlockedRequest(target=ISV), metadata=svc)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as error:  # service-only
        stub.HasUnlocked(billing_pb2.HasUnlockedRequest(target=ISV, unlocker=PROGRAM), metadata=bearer(spender))
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_unlocks_list_newest_first_in_pages(
    stub: billing_pb2_grpc.BillingServiceStub, spender: str, admin: str
) -> None:
    grant(stub, admin, PROGRAM, 5)
    made = [unlock(stub, spender, f"companies/c{i}", f"r{i}").name for i in range(5)]
    seen: list[str] = []
    token = ""
    while True:
        page = stub.ListUnlocks(
            billing_pb2.ListUnlocksRequest(parent=PROGRAM, page_size=2, page_token=token), metadata=bearer(spender)
        )
        seen += [u.name for u in page.unlocks]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    investors_only = stub.ListUnlocks(
        billing_pb2.ListUnlocksRequest(parent=PROGRAM, target_kind=page_pb2.PAGE_KIND_INVESTOR),
        metadata=bearer(spender),
    )
    assert list(investors_only.unlocks) == []

"""Concurrent calls that must not both win: two accepts of one invitation, two first pages of one founder."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc

from company_service.bootstrap import CompanyService
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc

from ..conftest import Caller, minimal_company
from ..helpers import invitation_token, outbox

Stub = company_pb2_grpc.CompanyServiceStub
c = company_pb2


def _race(calls: list[Callable[[], object]]) -> list[grpc.StatusCode]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> grpc.StatusCode:
        barrier.wait()
        try:
            call()
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    with ThreadPoolExecutor(len(calls)) as pool:
        return sorted(pool.map(run, calls), key=lambda code: code.value[0])


def test_of_two_concurrent_accepts_one_wins(stub: Stub, caller: Callable[..., Caller], service: CompanyService) -> None:
    alice, bob = caller("kc-alice"), caller("kc-bob", email="bob@example.com")
    page = stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company()), metadata=alice.metadata).name
    for round_ in range(3):
        email = f"bob{round_}@example.com"
        invitee = caller(f"kc-bob-{round_}", email=email)
        invitation = stub.CreateInvitation(
            c.CreateInvitationRequest(
                parent=page, invitation=c.Invitation(email=email, role=page_pb2.PAGE_ROLE_VIEWER)
            ),
            metadata=alice.metadata,
        )
        accept = c.AcceptInvitationRequest(name=invitation.name, token=invitation_token(service, invitation.name))
        metadata = invitee.metadata
        codes = _race([lambda: stub.AcceptInvitation(accept, metadata=metadata)] * 2)  # noqa: B023 - run at once
        # The loser sees the invitation closed, or (SQLite, no row locks) itself already a member.
        assert codes[0] == grpc.StatusCode.OK, codes
        assert codes[1] in {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS}, codes
        added = [r for r in outbox(service) if r.event_type == "devinsider.company.v1.MemberAdded"]
        assert [r.external_id for r in added].count(f"{page}/members/{invitee.subject}") == 1
    members = stub.ListMembers(c.ListMembersRequest(parent=page), metadata=alice.metadata)
    assert len(members.members) == 4 and bob.subject not in [m.subject for m in members.members]


def test_of_two_concurrent_first_pages_one_wins(stub: Stub, caller: Callable[..., Caller]) -> None:
    alice = caller("kc-alice")
    requests = [c.CreateCompanyRequest(company=minimal_company(f"Page {i}")) for i in range(2)]
    codes = _race([lambda r=r: stub.CreateCompany(r, metadata=alice.metadata) for r in requests])  # type: ignore[misc]
    assert codes == [grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION]
    mine = stub.ListCompanies(c.ListCompaniesRequest(caller_is_member=True), metadata=alice.metadata)
    assert len(mine.companies) == 1

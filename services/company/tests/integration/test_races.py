"""Concurrent calls that must not both win, on PostgreSQL and on SQLite: two accepts of one
invitation, two first pages of one founder (the database's unique keys decide)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from company_service.bootstrap import CompanyService, start
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2 as c
from devinsider.company.v1 import company_pb2_grpc
from devinsider_common.testing.tokens import CallerFactory

from ..conftest import make_settings, minimal_company
from ..helpers import invitation_token, outbox

Stub = company_pb2_grpc.CompanyServiceStub


@pytest.fixture
def racing(tmp_path: Path, each_database: tuple[str, str]) -> Iterator[tuple[CompanyService, Stub]]:
    service = start(make_settings(tmp_path, *each_database), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            yield service, company_pb2_grpc.CompanyServiceStub(channel)
    finally:
        service.stop(grace=0)


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


def test_of_two_concurrent_accepts_one_wins(racing: tuple[CompanyService, Stub], callers: CallerFactory) -> None:
    service, stub = racing
    alice = callers("kc-alice")
    page = stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company()), metadata=alice.metadata).name
    for round_ in range(2):
        email = f"bob{round_}@example.com"
        invitee = callers(f"kc-bob-{round_}", email=email)
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
        added = [r.external_id for r in outbox(service, "MemberAdded")]
        assert added.count(f"{page}/members/{invitee.subject}") == 1
    members = stub.ListMembers(c.ListMembersRequest(parent=page), metadata=alice.metadata)
    assert len(members.members) == 3


def test_of_two_concurrent_first_pages_one_wins(racing: tuple[CompanyService, Stub], callers: CallerFactory) -> None:
    service, stub = racing
    alice = callers("kc-alice")
    requests = [c.CreateCompanyRequest(company=minimal_company(f"Page {i}")) for i in range(2)]
    codes = _race([lambda r=r: stub.CreateCompany(r, metadata=alice.metadata) for r in requests])  # type: ignore[misc]
    assert codes == [grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION]
    # The same request id twice at once: one page, given to both.
    same = c.CreateCompanyRequest(company=minimal_company("Bob's"), request_id="r-1")
    bob = callers("kc-bob")
    barrier = threading.Barrier(2)

    def create(_: int) -> str:
        barrier.wait()
        return str(stub.CreateCompany(same, metadata=bob.metadata).name)

    with ThreadPoolExecutor(2) as pool:
        names = set(pool.map(create, range(2)))
    assert len(names) == 1
    assert len(outbox(service, "CompanyCreated")) == 2

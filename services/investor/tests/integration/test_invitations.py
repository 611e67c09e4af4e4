"""Invitations where only a running service shows it: concurrent accepts on the database, the expiry
job on its schedule. (The state machine itself is tested on the use cases: tests/unit.)"""

from __future__ import annotations

import threading
from pathlib import Path

import grpc

from devinsider.common.v1 import page_pb2
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.investor.v1.investor_pb2_grpc import InvestorServiceStub
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tokens import CallerFactory
from investor_service.bootstrap import InvestorService, start

from ..conftest import mailed_token, make_settings, new_investor

pb = investor_pb2
FP = grpc.StatusCode.FAILED_PRECONDITION


def _invite(stub: InvestorServiceStub, owner: tuple[tuple[str, str], ...], email: str) -> tuple[str, pb.Invitation]:
    page = stub.CreateInvestor(pb.CreateInvestorRequest(investor=new_investor()), metadata=owner).name
    invitation = pb.Invitation(email=email, role=page_pb2.PAGE_ROLE_VIEWER)
    return page, stub.CreateInvitation(pb.CreateInvitationRequest(parent=page, invitation=invitation), metadata=owner)


def test_of_concurrent_accepts_one_wins(
    stub: InvestorServiceStub, service: InvestorService, callers: CallerFactory
) -> None:
    _, invitation = _invite(stub, callers("kc-owner", ("investor",)).metadata, "race@example.com")
    token = mailed_token(service.engine, "race@example.com")
    auth = callers("race").metadata
    outcomes: list[grpc.StatusCode] = []
    start_line = threading.Barrier(4)

    def attempt() -> None:
        start_line.wait()
        try:
            stub.AcceptInvitation(pb.AcceptInvitationRequest(name=invitation.name, token=token), metadata=auth)
            outcomes.append(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            outcomes.append(error.code())

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(grpc.StatusCode.OK) == 1
    assert set(outcomes) - {grpc.StatusCode.OK} <= {FP, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ABORTED}


def test_the_scheduled_job_expires_invitations_by_itself(
    tmp_path: Path, database: tuple[str, str], callers: CallerFactory
) -> None:
    settings = make_settings(tmp_path, *database, invitation_ttl_hours=0, invitation_expiry_interval_seconds=0.1)
    service = start(settings)
    try:
        assert [job.name for job in service.jobs] == ["investor-invitation-expiry"]
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = investor_pb2_grpc.InvestorServiceStub(channel)
            owner = callers("kc-owner", ("investor",)).metadata
            page, _ = _invite(stub, owner, "late@example.com")
            expired = pb.ListInvitationsRequest(parent=page, state=page_pb2.INVITATION_STATE_EXPIRED)
            assert wait_for(lambda: len(stub.ListInvitations(expired, metadata=owner).invitations) == 1, timeout=30)
    finally:
        service.stop(grace=0)

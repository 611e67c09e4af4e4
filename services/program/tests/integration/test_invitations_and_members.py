"""The member and invitation RPCs (the shared `MembershipServicer`) through the real server on
PostgreSQL: each reaches the shared use cases on the program's unit of work, with the invitation
token from the mail in the outbox; two concurrent accepts of one invitation, one wins. The rules
are `tests/unit/test_members_and_invitations.py`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc

from devinsider.common.v1 import page_pb2
from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider.program.v1 import program_pb2_grpc
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import CallerFactory
from program_service.bootstrap import ProgramService

from ..conftest import mailed_token, new_program

Stub = program_pb2_grpc.ProgramServiceStub
PENDING, ACCEPTED = page_pb2.INVITATION_STATE_PENDING, page_pb2.INVITATION_STATE_ACCEPTED


def _invite(stub: Stub, service: ProgramService, program: str, email: str, metadata: object) -> tuple[str, str]:
    invitation = P.Invitation(email=email, role=page_pb2.PAGE_ROLE_EDITOR)
    request = P.CreateInvitationRequest(parent=program, invitation=invitation)
    name = stub.CreateInvitation(request, metadata=metadata).name  # type: ignore[arg-type]
    return name, mailed_token(service, name)


def test_member_and_invitation_rpcs(stub: Stub, service: ProgramService, callers: CallerFactory) -> None:
    owner = callers("kc-owner", ("program",)).metadata
    carol = callers("kc-carol", ("isv",), email="Carol@Example.com").metadata
    program = stub.CreateProgram(P.CreateProgramRequest(program=new_program()), metadata=owner).name
    bad_role = P.CreateInvitationRequest(parent=program, invitation=P.Invitation(email="x@example.com", role=9))  # type: ignore[arg-type]
    assert failure(lambda: stub.CreateInvitation(bad_role, metadata=owner)).fields == ["invitation.role"]
    name, token = _invite(stub, service, program, "CAROL@example.com", owner)
    mine = stub.ListInvitations(P.ListInvitationsRequest(parent="programs/-"), metadata=carol).invitations
    assert [(i.name, i.state, i.page_display_name) for i in mine] == [(name, PENDING, "Azure Partners")]
    no_token = P.AcceptInvitationRequest(name=name)
    assert failure(lambda: stub.AcceptInvitation(no_token, metadata=carol)).fields == ["token"]
    wrong = P.AcceptInvitationRequest(name=name, token=token + "x")
    assert failure(lambda: stub.AcceptInvitation(wrong, metadata=carol)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "INVITATION_TOKEN_INVALID"
    )
    accepted = stub.AcceptInvitation(P.AcceptInvitationRequest(name=name, token=token), metadata=carol)
    assert accepted.state == ACCEPTED and accepted.member == f"{program}/members/kc-carol"

    members = stub.ListMembers(P.ListMembersRequest(parent=program), metadata=carol).members
    assert [(m.subject, m.role) for m in members] == [
        ("kc-carol", page_pb2.PAGE_ROLE_EDITOR),
        ("kc-owner", page_pb2.PAGE_ROLE_OWNER),
    ]
    promote = P.UpdateMemberRequest(member=P.Member(name=accepted.member, role=page_pb2.PAGE_ROLE_ADMIN))
    assert stub.UpdateMember(promote, metadata=owner).role == page_pb2.PAGE_ROLE_ADMIN
    odd = P.UpdateMemberRequest(member=P.Member(name=f"{program}/people/x", role=page_pb2.PAGE_ROLE_VIEWER))
    assert failure(lambda: stub.UpdateMember(odd, metadata=owner)).fields == ["member.name"]
    me = f"{program}/members/kc-owner"
    assert failure(lambda: stub.DeleteMember(P.DeleteMemberRequest(name=me), metadata=owner)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER"
    )
    stub.LeaveProgram(P.LeaveProgramRequest(name=program), metadata=carol)
    assert failure(lambda: stub.LeaveProgram(P.LeaveProgramRequest(name=program), metadata=carol)) == Failure(
        grpc.StatusCode.NOT_FOUND, "NOT_A_MEMBER"
    )

    dan, dan_token = _invite(stub, service, program, "dan@example.com", owner)
    declined = stub.DeclineInvitation(P.DeclineInvitationRequest(name=dan, token=dan_token))  # from the mail
    assert declined.state == page_pb2.INVITATION_STATE_DECLINED
    fay, _ = _invite(stub, service, program, "fay@example.com", owner)
    revoked = stub.RevokeInvitation(P.RevokeInvitationRequest(name=fay), metadata=owner)
    assert revoked.state == page_pb2.INVITATION_STATE_REVOKED
    listed = stub.ListInvitations(
        P.ListInvitationsRequest(parent=program, state=page_pb2.INVITATION_STATE_DECLINED), metadata=owner
    )
    assert [i.name for i in listed.invitations] == [dan]
    assert {m.subject for m in stub.ListMembers(P.ListMembersRequest(parent=program), metadata=owner).members} == {
        "kc-owner"
    }
    gone = failure(lambda: stub.DeleteMember(P.DeleteMemberRequest(name=f"{program}/members/nobody"), metadata=owner))
    assert gone == Failure(grpc.StatusCode.NOT_FOUND, "MEMBER_NOT_FOUND")


def test_two_concurrent_accepts_of_one_invitation_one_wins(
    stub: Stub, service: ProgramService, callers: CallerFactory
) -> None:
    owner = callers("kc-owner", ("program",)).metadata
    program = stub.CreateProgram(P.CreateProgramRequest(program=new_program()), metadata=owner).name
    name, token = _invite(stub, service, program, "hal@example.com", owner)
    hal = callers("kc-hal", ("isv",), email="hal@example.com").metadata

    def accept() -> grpc.StatusCode:
        try:
            stub.AcceptInvitation(P.AcceptInvitationRequest(name=name, token=token), metadata=hal)
            return grpc.StatusCode.OK
        except grpc.RpcError as error:
            return error.code()

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda _: accept(), range(4)))
    assert codes.count(grpc.StatusCode.OK) == 1
    assert set(codes) - {grpc.StatusCode.OK} <= {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS}

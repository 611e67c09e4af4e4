"""Invitations (invite, accept with token and matching e-mail, decline, revoke, expiry job, races)
and member management (roles, last owner) through the real server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from devinsider.common.v1 import page_pb2
from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider.program.v1 import program_pb2_grpc
from devinsider_common.pages.roles import PageRole
from program_service.bootstrap import ProgramService

from ..company_double import CompanyDouble
from ..conftest import TokenFactory, bearer, error_of
from ..world import World, build_world

PENDING, ACCEPTED = page_pb2.INVITATION_STATE_PENDING, page_pb2.INVITATION_STATE_ACCEPTED


@pytest.fixture
def world(
    stub: program_pb2_grpc.ProgramServiceStub, service: ProgramService, company: CompanyDouble, token: TokenFactory
) -> World:
    return build_world(stub, service, company, token)


def _code(call: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str]:
    code, reason, _ = error_of(call)
    return code, reason


def test_invite_then_accept_with_the_token_and_the_invited_email(world: World) -> None:
    stub, carol = world.stub, bearer(world.token("kc-carol", email="Carol@Example.com"))
    name, token = world.invite(world.published, "CAROL@example.com", page_pb2.PAGE_ROLE_EDITOR)
    mine = stub.ListInvitations(P.ListInvitationsRequest(parent="programs/-"), metadata=carol).invitations
    assert [(i.name, i.state, i.page_display_name) for i in mine] == [(name, PENDING, "Azure Partners")]
    with pytest.raises(grpc.RpcError) as call:  # the right token, the wrong person
        stub.AcceptInvitation(P.AcceptInvitationRequest(name=name, token=token), metadata=world.caller("stranger"))
    assert _code(call) == (grpc.StatusCode.PERMISSION_DENIED, "INVITATION_EMAIL_MISMATCH")
    with pytest.raises(grpc.RpcError) as call:  # the right person, a wrong token
        stub.AcceptInvitation(P.AcceptInvitationRequest(name=name, token=token + "x"), metadata=carol)
    assert _code(call) == (grpc.StatusCode.PERMISSION_DENIED, "INVITATION_TOKEN_INVALID")
    accepted = stub.AcceptInvitation(P.AcceptInvitationRequest(name=name, token=token), metadata=carol)
    assert accepted.state == ACCEPTED and accepted.member == f"{world.published}/members/kc-carol"
    with pytest.raises(grpc.RpcError) as call:
        stub.AcceptInvitation(P.AcceptInvitationRequest(name=name, token=token), metadata=carol)
    assert _code(call) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_NOT_PENDING")
    roles = {
        m.subject: m.role
        for m in stub.ListMembers(P.ListMembersRequest(parent=world.published), metadata=carol).members
    }
    assert roles["kc-carol"] == page_pb2.PAGE_ROLE_EDITOR and len(roles) == 5


def test_decline_revoke_duplicates_and_role_ceiling(world: World) -> None:
    stub = world.stub
    name, token = world.invite(world.published, "dan@example.com", page_pb2.PAGE_ROLE_VIEWER)
    with pytest.raises(grpc.RpcError) as call:
        world.invite(world.published, "Dan@Example.com", page_pb2.PAGE_ROLE_VIEWER)
    assert _code(call) == (grpc.StatusCode.ALREADY_EXISTS, "INVITATION_PENDING")
    with pytest.raises(grpc.RpcError) as call:
        world.invite(world.published, "kc-viewer@example.com", page_pb2.PAGE_ROLE_VIEWER)
    assert _code(call) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_MEMBER")
    with pytest.raises(grpc.RpcError) as call:  # an admin never hands out the owner role
        world.invite(world.published, "eve@example.com", page_pb2.PAGE_ROLE_OWNER, who="admin")
    assert _code(call) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_ABOVE_OWN")
    declined = stub.DeclineInvitation(P.DeclineInvitationRequest(name=name, token=token))  # from the mail, no account
    assert declined.state == page_pb2.INVITATION_STATE_DECLINED
    other, _ = world.invite(world.published, "fay@example.com", page_pb2.PAGE_ROLE_VIEWER)
    revoked = stub.RevokeInvitation(P.RevokeInvitationRequest(name=other), metadata=world.caller("admin"))
    assert revoked.state == page_pb2.INVITATION_STATE_REVOKED
    for rpc, request in (
        (stub.RevokeInvitation, P.RevokeInvitationRequest(name=name)),
        (stub.DeclineInvitation, P.DeclineInvitationRequest(name=other)),
    ):
        with pytest.raises(grpc.RpcError) as call:
            rpc(request, metadata=world.caller("owner"))  # type: ignore[arg-type]
        assert call.value.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(grpc.RpcError) as call:
        stub.RevokeInvitation(P.RevokeInvitationRequest(name=name), metadata=world.caller("owner"))
    assert _code(call) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_NOT_PENDING")
    states = stub.ListInvitations(
        P.ListInvitationsRequest(parent=world.published, state=page_pb2.INVITATION_STATE_DECLINED),
        metadata=world.caller("owner"),
    )
    assert [i.name for i in states.invitations] == [name]
    with pytest.raises(grpc.RpcError) as call:
        world.invite(world.published, "not-an-email", page_pb2.PAGE_ROLE_VIEWER)
    assert error_of(call)[2] == ["invitation.email"]
    with pytest.raises(grpc.RpcError) as call:
        world.invite(world.published, "ok@example.com", 9)
    assert error_of(call)[2] == ["invitation.role"]


def test_the_expiry_job_closes_due_invitations(world: World) -> None:
    name, token = world.invite(world.published, "gus@example.com", page_pb2.PAGE_ROLE_VIEWER)
    assert world.service.app.invitations.expire_due() == 0  # not due yet (a week)
    with world.service.engine.begin() as connection:  # move the clock of this invitation, not ours
        from sqlalchemy import update

        from program_service.adapters.tables import page_tables

        connection.execute(
            update(page_tables.invitations)
            .where(page_tables.invitations.c.id == name.rsplit("/", 1)[1])
            .values(expires_at=page_tables.invitations.c.created_at)
        )
    assert world.service.app.invitations.expire_due() == 1
    listed = world.stub.ListInvitations(
        P.ListInvitationsRequest(parent=world.published), metadata=world.caller("owner")
    )
    assert {i.name: i.state for i in listed.invitations}[name] == page_pb2.INVITATION_STATE_EXPIRED
    with pytest.raises(grpc.RpcError) as call:
        world.stub.AcceptInvitation(
            P.AcceptInvitationRequest(name=name, token=token),
            metadata=bearer(world.token("kc-gus", email="gus@example.com")),
        )
    assert call.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_last_owner_protection_and_role_changes(world: World) -> None:
    stub, owner = world.stub, world.caller("owner")
    me = f"{world.published}/members/kc-owner"
    for call_it in (
        lambda: stub.LeaveProgram(P.LeaveProgramRequest(name=world.published), metadata=owner),
        lambda: stub.UpdateMember(
            P.UpdateMemberRequest(member=P.Member(name=me, role=page_pb2.PAGE_ROLE_ADMIN)), metadata=owner
        ),
        lambda: stub.DeleteMember(P.DeleteMemberRequest(name=me), metadata=owner),
    ):
        with pytest.raises(grpc.RpcError) as call:
            call_it()
        assert _code(call) == (grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER")
    with pytest.raises(grpc.RpcError) as call:  # an admin never touches an owner
        stub.DeleteMember(P.DeleteMemberRequest(name=me), metadata=world.caller("admin"))
    assert _code(call) == (grpc.StatusCode.PERMISSION_DENIED, "MEMBER_OUTRANKS_CALLER")
    admin = f"{world.published}/members/kc-admin"
    promoted = stub.UpdateMember(
        P.UpdateMemberRequest(member=P.Member(name=admin, role=page_pb2.PAGE_ROLE_OWNER)), metadata=owner
    )
    assert promoted.role == page_pb2.PAGE_ROLE_OWNER
    stub.LeaveProgram(P.LeaveProgramRequest(name=world.published), metadata=owner)  # another owner remains
    with pytest.raises(grpc.RpcError) as call:
        stub.ListMembers(P.ListMembersRequest(parent=world.published), metadata=owner)
    assert call.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as call:
        stub.UpdateMember(
            P.UpdateMemberRequest(
                member=P.Member(name=f"{world.published}/members/nobody", role=page_pb2.PAGE_ROLE_VIEWER)
            ),
            metadata=world.caller("admin"),
        )
    assert _code(call) == (grpc.StatusCode.NOT_FOUND, "MEMBER_NOT_FOUND")
    with pytest.raises(grpc.RpcError) as call:
        stub.UpdateMember(
            P.UpdateMemberRequest(member=P.Member(name="programs/x/people/y", role=page_pb2.PAGE_ROLE_VIEWER)),
            metadata=world.caller("admin"),
        )
    assert error_of(call)[2] == ["member.name"]


def test_check_page_access_answers_from_membership(world: World) -> None:
    service = bearer(world.token("service-x", roles=("service",)))

    def check(subject: str, permission: int, page: str = "") -> tuple[bool, int]:
        request = P.CheckPageAccessRequest(page=page or world.published, subject=subject, permission=permission)  # type: ignore[arg-type]
        answer = world.stub.CheckPageAccess(request, metadata=service)
        return answer.allowed, answer.role

    assert check("kc-editor", page_pb2.PAGE_PERMISSION_EDIT) == (True, PageRole.EDITOR)
    assert check("kc-editor", page_pb2.PAGE_PERMISSION_MANAGE_MEMBERS) == (False, PageRole.EDITOR)
    assert check("kc-other_owner", page_pb2.PAGE_PERMISSION_VIEW_PRIVATE) == (False, 0)
    assert check("kc-owner", page_pb2.PAGE_PERMISSION_DELETE, page="programs/unknown") == (False, 0)
    with pytest.raises(grpc.RpcError) as call:
        world.stub.CheckPageAccess(P.CheckPageAccessRequest(page="x", permission=9), metadata=service)  # type: ignore[arg-type]
    assert sorted(error_of(call)[2]) == ["page", "permission", "subject"]


def test_two_concurrent_accepts_of_one_invitation_one_wins(world: World) -> None:
    # PostgreSQL serialises on the row lock; SQLite on the conditional close of the invitation.
    name, token = world.invite(world.published, "hal@example.com", page_pb2.PAGE_ROLE_VIEWER)
    auth = bearer(world.token("kc-hal", email="hal@example.com"))

    def accept() -> grpc.StatusCode:
        try:
            world.stub.AcceptInvitation(P.AcceptInvitationRequest(name=name, token=token), metadata=auth)
            return grpc.StatusCode.OK
        except grpc.RpcError as error:
            return error.code()

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda _: accept(), range(4)))
    assert codes.count(grpc.StatusCode.OK) == 1
    assert set(codes) - {grpc.StatusCode.OK} <= {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS}

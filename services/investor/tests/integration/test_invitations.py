"""Invitations and members: the state machine, tokens and e-mails, last-owner protection, expiry."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from devinsider.common.v1 import mail_pb2, page_pb2
from devinsider.investor.v1 import events_pb2, investor_pb2, investor_pb2_grpc
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from investor_service.bootstrap import start

from ..conftest import Builder, TokenFactory, bearer, mailed_token, make_settings, new_investor, rpc_error

pb = investor_pb2
FP = grpc.StatusCode.FAILED_PRECONDITION


def _accept(builder: Builder, name: str, token: str, who: str, email: str = "") -> pb.Invitation:
    auth = bearer(builder.token(who, email=email)) if email else builder.auth(who)
    return builder.stub.AcceptInvitation(pb.AcceptInvitationRequest(name=name, token=token), metadata=auth)


def test_invite_then_accept_with_token_and_matching_email(builder: Builder) -> None:
    page = builder.page("p", roles=(), invite=False)
    invitation = builder.invite(page, "Bob@Example.com", "editor")
    assert invitation.email == "bob@example.com" and invitation.state == page_pb2.INVITATION_STATE_PENDING
    assert invitation.page_display_name.startswith("P Capital") and invitation.inviter == "p-owner"
    token = mailed_token(builder.service.engine, "bob@example.com")
    with pytest.raises(grpc.RpcError) as wrong_person:
        _accept(builder, invitation.name, token, "kc-eve")
    assert rpc_error(wrong_person)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "INVITATION_EMAIL_MISMATCH")
    with pytest.raises(grpc.RpcError) as forged:
        _accept(builder, invitation.name, token + "x", "kc-bob", "bob@example.com")
    assert rpc_error(forged)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "INVITATION_TOKEN_INVALID")
    accepted = _accept(builder, invitation.name, token, "kc-bob", "BOB@example.com")
    assert accepted.state == page_pb2.INVITATION_STATE_ACCEPTED
    assert accepted.member == f"{page.name}/members/kc-bob" and accepted.HasField("close_time")
    with pytest.raises(grpc.RpcError) as twice:  # tokens are one-time
        _accept(builder, invitation.name, token, "kc-bob", "bob@example.com")
    assert rpc_error(twice)[:2] == (FP, "INVITATION_NOT_PENDING")
    members = builder.stub.ListMembers(pb.ListMembersRequest(parent=page.name), metadata=builder.auth("p-owner"))
    assert {(m.subject, m.role) for m in members.members} == {
        ("p-owner", page_pb2.PAGE_ROLE_OWNER),
        ("kc-bob", page_pb2.PAGE_ROLE_EDITOR),
    }


def test_the_mail_carries_the_token_and_the_odoo_event_never_does(builder: Builder) -> None:
    page = builder.page("p", roles=(), invite=False)
    builder.invite(page, "carol@example.com", "viewer")
    token = mailed_token(builder.service.engine, "carol@example.com")
    with builder.service.engine.connect() as connection:
        rows = connection.execute(select(outbox_messages.c.event_type, outbox_messages.c.body)).all()
    sent = [r.body for r in rows if r.event_type == "devinsider.investor.v1.InvitationSent"]
    assert len(sent) == 1 and token not in sent[0]
    event = unpack_payload(from_json(sent[0]), events_pb2.InvitationSent)
    assert event.invitation.email == "carol@example.com"
    mails = [unpack_payload(from_json(r.body), mail_pb2.MailRequested) for r in rows if "MailRequested" in r.event_type]
    [mail] = mails
    assert mail.template == "investor_invitation" and token in mail.variables["accept_url"]
    assert mail.variables["role"] == "viewer" and mail.variables["page_display_name"].startswith("P Capital")
    assert set(mail.variables) >= {"inviter_name", "expire_time"}


def test_decline_with_token_anonymously_or_as_the_signed_in_invitee(builder: Builder) -> None:
    page = builder.page("p", roles=(), invite=False)
    first = builder.invite(page, "dan@example.com", "viewer")
    token = mailed_token(builder.service.engine, "dan@example.com")
    with pytest.raises(grpc.RpcError) as no_token:
        builder.stub.DeclineInvitation(pb.DeclineInvitationRequest(name=first.name))
    assert no_token.value.code() == grpc.StatusCode.PERMISSION_DENIED
    declined = builder.stub.DeclineInvitation(pb.DeclineInvitationRequest(name=first.name, token=token))
    assert declined.state == page_pb2.INVITATION_STATE_DECLINED
    second = builder.invite(page, "dan@example.com", "viewer")  # declined: a new one may be sent
    as_invitee = builder.stub.DeclineInvitation(
        pb.DeclineInvitationRequest(name=second.name), metadata=builder.auth("dan")
    )
    assert as_invitee.state == page_pb2.INVITATION_STATE_DECLINED


def test_every_transition_out_of_a_closed_state_is_failed_precondition(builder: Builder) -> None:
    page = builder.page("p", roles=(), invite=False)
    owner = builder.auth("p-owner")
    closed: dict[str, tuple[str, str]] = {}
    for state, email in (("accepted", "a@example.com"), ("declined", "d@example.com"), ("revoked", "r@example.com")):
        invitation = builder.invite(page, email, "viewer")
        closed[state] = (invitation.name, mailed_token(builder.service.engine, email))
    _accept(builder, closed["accepted"][0], closed["accepted"][1], "a")
    builder.stub.DeclineInvitation(pb.DeclineInvitationRequest(name=closed["declined"][0], token=closed["declined"][1]))
    builder.stub.RevokeInvitation(pb.RevokeInvitationRequest(name=closed["revoked"][0]), metadata=owner)
    invitees = {"accepted": "a", "declined": "d", "revoked": "r"}
    for state, (name, token) in closed.items():
        for verb in ("accept", "decline", "revoke"):
            with pytest.raises(grpc.RpcError) as call:
                if verb == "accept":
                    _accept(builder, name, token, invitees[state])
                elif verb == "decline":
                    builder.stub.DeclineInvitation(pb.DeclineInvitationRequest(name=name, token=token))
                else:
                    builder.stub.RevokeInvitation(pb.RevokeInvitationRequest(name=name), metadata=owner)
            assert rpc_error(call)[:2] == (FP, "INVITATION_NOT_PENDING"), (state, verb)


def test_one_pending_invitation_per_email_and_none_for_members(builder: Builder) -> None:
    page = builder.page("p", roles=("admin",), invite=False)
    builder.invite(page, "eve@example.com", "viewer")
    for email, reason in (("EVE@example.com", "INVITATION_PENDING"), ("p-admin@example.com", "ALREADY_MEMBER")):
        with pytest.raises(grpc.RpcError) as call:
            builder.invite(page, email, "viewer")
        assert rpc_error(call)[:2] == (grpc.StatusCode.ALREADY_EXISTS, reason)


def test_invitation_input_and_role_ceiling(builder: Builder) -> None:
    page = builder.page("p", roles=("admin",), invite=False)
    admin = builder.auth("p-admin")
    bad = pb.CreateInvitationRequest(
        parent=page.name, invitation=pb.Invitation(email="nope", role=page_pb2.PAGE_ROLE_VIEWER, message="x" * 1001)
    )
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.CreateInvitation(bad, metadata=admin)
    assert sorted(rpc_error(call)[2]) == ["invitation.email", "invitation.message"]
    no_role = pb.CreateInvitationRequest(parent=page.name, invitation=pb.Invitation(email="ok@example.com"))
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.CreateInvitation(no_role, metadata=admin)
    assert rpc_error(call)[2] == ["invitation.role"]
    owner_invite = pb.CreateInvitationRequest(
        parent=page.name, invitation=pb.Invitation(email="ok@example.com", role=page_pb2.PAGE_ROLE_OWNER)
    )
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.CreateInvitation(owner_invite, metadata=admin)
    assert rpc_error(call)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_ABOVE_OWN")


def test_last_owner_is_protected_and_admins_never_touch_owners(builder: Builder) -> None:
    page = builder.page("p", roles=("admin",), invite=False)
    owner, admin = builder.auth("p-owner"), builder.auth("p-admin")
    me = f"{page.name}/members/p-owner"

    def set_role(auth: tuple[tuple[str, str], ...], role: int) -> pb.Member:
        member = pb.Member(name=me, role=role)  # type: ignore[arg-type]
        return builder.stub.UpdateMember(pb.UpdateMemberRequest(member=member), metadata=auth)

    for attempt in (
        lambda: set_role(owner, page_pb2.PAGE_ROLE_ADMIN),
        lambda: builder.stub.DeleteMember(pb.DeleteMemberRequest(name=me), metadata=owner),
        lambda: builder.stub.LeaveInvestor(pb.LeaveInvestorRequest(name=page.name), metadata=owner),
    ):
        with pytest.raises(grpc.RpcError) as call:
            attempt()
        assert rpc_error(call)[:2] == (FP, "LAST_OWNER")
    with pytest.raises(grpc.RpcError) as call:
        set_role(admin, page_pb2.PAGE_ROLE_VIEWER)
    assert rpc_error(call)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "MEMBER_OUTRANKS_CALLER")
    promoted = builder.stub.UpdateMember(
        pb.UpdateMemberRequest(member=pb.Member(name=f"{page.name}/members/p-admin", role=page_pb2.PAGE_ROLE_OWNER)),
        metadata=owner,
    )
    assert promoted.role == page_pb2.PAGE_ROLE_OWNER
    builder.stub.LeaveInvestor(pb.LeaveInvestorRequest(name=page.name), metadata=owner)  # two owners: may leave
    members = builder.stub.ListMembers(pb.ListMembersRequest(parent=page.name), metadata=admin)
    assert [(m.subject, m.role) for m in members.members] == [("p-admin", page_pb2.PAGE_ROLE_OWNER)]


def test_member_requests_are_validated(builder: Builder) -> None:
    page = builder.page("p", roles=("viewer",), invite=False)
    owner = builder.auth("p-owner")
    cases = [
        (pb.UpdateMemberRequest(member=pb.Member(name=f"{page.name}/members/p-viewer")), ["member.role"]),
        (pb.UpdateMemberRequest(member=pb.Member(name=f"{page.name}/invitations/x", role=1)), ["member.name"]),  # type: ignore[arg-type]
    ]
    for request, fields in cases:
        with pytest.raises(grpc.RpcError) as call:
            builder.stub.UpdateMember(request, metadata=owner)
        assert rpc_error(call)[2] == fields
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.ListMembers(pb.ListMembersRequest(parent=page.name, role=9), metadata=owner)  # type: ignore[arg-type]
    assert rpc_error(call)[2] == ["role"]
    viewers = builder.stub.ListMembers(
        pb.ListMembersRequest(parent=page.name, role=page_pb2.PAGE_ROLE_VIEWER), metadata=owner
    )
    assert [m.subject for m in viewers.members] == ["p-viewer"]


def test_two_concurrent_accepts_one_wins(builder: Builder) -> None:
    page = builder.page("p", roles=(), invite=False)
    invitation = builder.invite(page, "race@example.com", "viewer")
    token = mailed_token(builder.service.engine, "race@example.com")
    auth = builder.auth("race")
    outcomes: list[grpc.StatusCode] = []
    start_line = threading.Barrier(4)

    def attempt() -> None:
        start_line.wait()
        try:
            builder.stub.AcceptInvitation(pb.AcceptInvitationRequest(name=invitation.name, token=token), metadata=auth)
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


def test_expiry_job_closes_overdue_invitations(tmp_path: Path, database: tuple[str, str], token: TokenFactory) -> None:
    service = start(make_settings(tmp_path, *database, invitation_ttl_hours=0), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = investor_pb2_grpc.InvestorServiceStub(channel)
            owner = bearer(token("kc-owner"))
            page = stub.CreateInvestor(pb.CreateInvestorRequest(investor=new_investor()), metadata=owner)
            invitation = stub.CreateInvitation(
                pb.CreateInvitationRequest(
                    parent=page.name, invitation=pb.Invitation(email="late@example.com", role=page_pb2.PAGE_ROLE_VIEWER)
                ),
                metadata=owner,
            )
            late = bearer(token("late"))
            secret = mailed_token(service.engine, "late@example.com")
            with pytest.raises(grpc.RpcError) as call:  # past its expiry, even before the job ran
                stub.AcceptInvitation(pb.AcceptInvitationRequest(name=invitation.name, token=secret), metadata=late)
            assert rpc_error(call)[:2] == (FP, "INVITATION_EXPIRED")
            assert service.app.invitations.expire_due() == 1
            assert service.app.invitations.expire_due() == 0
            mine = stub.ListInvitations(pb.ListInvitationsRequest(parent="investors/-"), metadata=late)
            assert [(i.name, i.state) for i in mine.invitations] == [
                (invitation.name, page_pb2.INVITATION_STATE_EXPIRED)
            ]
            assert mine.invitations[0].page_display_name == "Northwind Ventures"
            with pytest.raises(grpc.RpcError) as call:
                stub.RevokeInvitation(pb.RevokeInvitationRequest(name=invitation.name), metadata=owner)
            assert rpc_error(call)[:2] == (FP, "INVITATION_NOT_PENDING")
    finally:
        service.stop(grace=0)


def test_the_scheduled_job_runs_by_itself(tmp_path: Path, database: tuple[str, str], token: TokenFactory) -> None:
    settings = make_settings(tmp_path, *database, invitation_ttl_hours=0, invitation_expiry_interval_seconds=0.1)
    service = start(settings)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = investor_pb2_grpc.InvestorServiceStub(channel)
            owner = bearer(token("kc-owner"))
            page = stub.CreateInvestor(pb.CreateInvestorRequest(investor=new_investor()), metadata=owner)
            stub.CreateInvitation(
                pb.CreateInvitationRequest(
                    parent=page.name, invitation=pb.Invitation(email="late@example.com", role=page_pb2.PAGE_ROLE_VIEWER)
                ),
                metadata=owner,
            )
            expired = pb.ListInvitationsRequest(parent=page.name, state=page_pb2.INVITATION_STATE_EXPIRED)
            deadline = time.monotonic() + 30  # a bound on waiting, not a timing assertion
            while not stub.ListInvitations(expired, metadata=owner).invitations and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(stub.ListInvitations(expired, metadata=owner).invitations) == 1
    finally:
        service.stop(grace=0)

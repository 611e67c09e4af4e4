"""Members and invitations of a company page through the real server (shared page model)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2

from company_service.bootstrap import INVITATION_EXPIRY_JOB, CompanyService
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.grpc.status import error_info, from_rpc_error
from devinsider_common.jobs import run_once_across_replicas
from devinsider_common.locks import InProcessLockFactory

from ..conftest import Caller, FakeClock, minimal_company
from ..helpers import invitation_token, mails, outbox

Stub = company_pb2_grpc.CompanyServiceStub
MakeCaller = Callable[..., Caller]
c = company_pb2


def _fails(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    status = from_rpc_error(raised.value)
    info = error_info(status) if status else None
    return raised.value.code(), info.reason if info else ""


def _page(stub: Stub, owner: Caller) -> str:
    return stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company()), metadata=owner.metadata).name


def _invite(stub: Stub, who: Caller, page: str, email: str, role: int = page_pb2.PAGE_ROLE_EDITOR) -> c.Invitation:
    request = c.CreateInvitationRequest(parent=page, invitation=c.Invitation(email=email, role=role, message="hi"))  # type: ignore[arg-type]
    return stub.CreateInvitation(request, metadata=who.metadata)


def test_invite_then_accept_with_the_token_and_the_invited_email(
    stub: Stub, caller: MakeCaller, service: CompanyService
) -> None:
    alice, bob = caller("kc-alice"), caller("kc-bob", email="bob@acme.io")
    page = _page(stub, alice)
    invitation = _invite(stub, alice, page, "Bob@Acme.io")
    assert invitation.email == "bob@acme.io" and invitation.state == page_pb2.INVITATION_STATE_PENDING
    assert invitation.page_display_name == "Acme Analytics" and invitation.HasField("expire_time")
    token = invitation_token(service, invitation.name)
    # The token is in the mail only, never in the Odoo event.
    sent = [r for r in outbox(service) if r.event_type == "devinsider.company.v1.InvitationSent"]
    assert len(sent) == 1 and sent[0].exchange == "odoo_company.exchange.direct"
    assert sent[0].routing_key == "odoo_company_queue"
    mail = mails(service, "company_invitation")[0]
    assert mail.to_email == "bob@acme.io" and mail.variables["role"] == "editor"
    # Another e-mail, or a wrong token, does not get in.
    eve = caller("kc-eve", email="eve@evil.io")
    accept = c.AcceptInvitationRequest(name=invitation.name, token=token)
    assert _fails(lambda: stub.AcceptInvitation(accept, metadata=eve.metadata)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "INVITATION_EMAIL_MISMATCH",
    )
    wrong = c.AcceptInvitationRequest(name=invitation.name, token=token + "x")
    assert _fails(lambda: stub.AcceptInvitation(wrong, metadata=bob.metadata))[1] == "INVITATION_TOKEN_INVALID"
    accepted = stub.AcceptInvitation(accept, metadata=bob.metadata)
    assert accepted.state == page_pb2.INVITATION_STATE_ACCEPTED and accepted.member == f"{page}/members/kc-bob"
    # Every other transition of a closed invitation is FAILED_PRECONDITION.
    assert (
        _fails(lambda: stub.AcceptInvitation(accept, metadata=bob.metadata))[0] == grpc.StatusCode.FAILED_PRECONDITION
    )
    decline = c.DeclineInvitationRequest(name=invitation.name, token=token)
    assert _fails(lambda: stub.DeclineInvitation(decline))[0] == grpc.StatusCode.FAILED_PRECONDITION
    revoke = c.RevokeInvitationRequest(name=invitation.name)
    assert (
        _fails(lambda: stub.RevokeInvitation(revoke, metadata=alice.metadata))[0] == grpc.StatusCode.FAILED_PRECONDITION
    )
    seen = stub.GetCompany(c.GetCompanyRequest(name=page), metadata=bob.metadata)
    assert seen.viewer_role == page_pb2.PAGE_ROLE_EDITOR and seen.viewer_has_full_access


def test_decline_with_token_and_revoke_and_one_pending_per_email(
    stub: Stub, caller: MakeCaller, service: CompanyService
) -> None:
    alice = caller("kc-alice")
    page = _page(stub, alice)
    first = _invite(stub, alice, page, "x@example.com")
    assert _fails(lambda: _invite(stub, alice, page, "X@example.com")) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "INVITATION_PENDING",
    )
    declined = stub.DeclineInvitation(
        c.DeclineInvitationRequest(name=first.name, token=invitation_token(service, first.name))
    )
    assert declined.state == page_pb2.INVITATION_STATE_DECLINED and declined.HasField("close_time")
    second = _invite(stub, alice, page, "x@example.com")
    revoked = stub.RevokeInvitation(c.RevokeInvitationRequest(name=second.name), metadata=alice.metadata)
    assert revoked.state == page_pb2.INVITATION_STATE_REVOKED
    # The invitee signed in may decline without the token; on a revoked one it is FAILED_PRECONDITION.
    invitee = caller("kc-x", email="x@example.com")
    assert (
        _fails(lambda: stub.DeclineInvitation(c.DeclineInvitationRequest(name=second.name), metadata=invitee.metadata))[
            0
        ]
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    third = _invite(stub, alice, page, "x@example.com")
    done = stub.DeclineInvitation(c.DeclineInvitationRequest(name=third.name), metadata=invitee.metadata)
    assert done.state == page_pb2.INVITATION_STATE_DECLINED
    listed = stub.ListInvitations(c.ListInvitationsRequest(parent=page), metadata=alice.metadata)
    assert [i.name for i in listed.invitations] == [third.name, second.name, first.name]  # newest first
    only = c.ListInvitationsRequest(parent=page, state=page_pb2.INVITATION_STATE_REVOKED)
    assert [i.name for i in stub.ListInvitations(only, metadata=alice.metadata).invitations] == [second.name]
    mine = stub.ListInvitations(c.ListInvitationsRequest(parent="companies/-"), metadata=invitee.metadata)
    assert {i.page_display_name for i in mine.invitations} == {"Acme Analytics"} and len(mine.invitations) == 3


def test_nobody_invites_above_their_own_role(stub: Stub, caller: MakeCaller, service: CompanyService) -> None:
    alice, carol = caller("kc-alice"), caller("kc-carol", email="carol@example.com")
    page = _page(stub, alice)
    invitation = _invite(stub, alice, page, "carol@example.com", page_pb2.PAGE_ROLE_ADMIN)
    stub.AcceptInvitation(
        c.AcceptInvitationRequest(name=invitation.name, token=invitation_token(service, invitation.name)),
        metadata=carol.metadata,
    )
    assert _fails(lambda: _invite(stub, carol, page, "d@example.com", page_pb2.PAGE_ROLE_OWNER)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "ROLE_ABOVE_OWN",
    )
    assert _invite(stub, carol, page, "d@example.com", page_pb2.PAGE_ROLE_ADMIN).role == page_pb2.PAGE_ROLE_ADMIN
    bad = c.CreateInvitationRequest(parent=page, invitation=c.Invitation(email="not-an-email", role=0))  # type: ignore[arg-type]
    assert _fails(lambda: stub.CreateInvitation(bad, metadata=alice.metadata))[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_the_expiry_job_expires_overdue_invitations_once(
    stub: Stub, caller: MakeCaller, service: CompanyService, clock: FakeClock
) -> None:
    alice, bob = caller("kc-alice"), caller("kc-bob", email="bob@example.com")
    page = _page(stub, alice)
    invitation = _invite(stub, alice, page, "bob@example.com")
    token = invitation_token(service, invitation.name)
    (job,) = [j for j in service.jobs if j.name == INVITATION_EXPIRY_JOB]
    locks = InProcessLockFactory()
    assert run_once_across_replicas(job, locks) == 0  # not due yet
    clock.advance(hours=service.settings.invitation_ttl_hours + 1)
    # Past its expiry but before the job ran, the invitation cannot be accepted either.
    accept = c.AcceptInvitationRequest(name=invitation.name, token=token)
    assert _fails(lambda: stub.AcceptInvitation(accept, metadata=bob.metadata)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVITATION_EXPIRED",
    )
    assert run_once_across_replicas(job, locks) == 1
    assert run_once_across_replicas(job, locks) == 0  # nothing left: each invitation expires once
    listed = stub.ListInvitations(c.ListInvitationsRequest(parent=page), metadata=alice.metadata)
    assert [i.state for i in listed.invitations] == [page_pb2.INVITATION_STATE_EXPIRED]
    changed = [r for r in outbox(service) if r.event_type == "devinsider.company.v1.InvitationChanged"]
    assert [r.external_id for r in changed] == [invitation.name]
    # While another replica holds the job's lock, this one skips.
    with locks.lock(f"job:{job.name}", timeout_seconds=60):
        assert run_once_across_replicas(job, locks) is None


def test_roles_change_and_the_last_owner_is_protected(stub: Stub, caller: MakeCaller, service: CompanyService) -> None:
    alice, bob = caller("kc-alice"), caller("kc-bob", email="bob@example.com")
    page = _page(stub, alice)
    invitation = _invite(stub, alice, page, "bob@example.com", page_pb2.PAGE_ROLE_VIEWER)
    stub.AcceptInvitation(
        c.AcceptInvitationRequest(name=invitation.name, token=invitation_token(service, invitation.name)),
        metadata=bob.metadata,
    )
    mask = field_mask_pb2.FieldMask(paths=["role"])
    alice_member = c.Member(name=f"{page}/members/kc-alice", role=page_pb2.PAGE_ROLE_ADMIN)
    demote = c.UpdateMemberRequest(member=alice_member, update_mask=mask)
    assert _fails(lambda: stub.UpdateMember(demote, metadata=alice.metadata)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LAST_OWNER",
    )
    leave = c.LeaveCompanyRequest(name=page)
    assert _fails(lambda: stub.LeaveCompany(leave, metadata=alice.metadata))[1] == "LAST_OWNER"
    remove_alice = c.DeleteMemberRequest(name=f"{page}/members/kc-alice")
    assert _fails(lambda: stub.DeleteMember(remove_alice, metadata=alice.metadata))[1] == "LAST_OWNER"
    promote = c.UpdateMemberRequest(member=c.Member(name=f"{page}/members/kc-bob", role=page_pb2.PAGE_ROLE_OWNER))
    assert stub.UpdateMember(promote, metadata=alice.metadata).role == page_pb2.PAGE_ROLE_OWNER
    assert stub.UpdateMember(demote, metadata=alice.metadata).role == page_pb2.PAGE_ROLE_ADMIN
    # An admin cannot touch an owner.
    demote_bob = c.UpdateMemberRequest(member=c.Member(name=f"{page}/members/kc-bob", role=page_pb2.PAGE_ROLE_VIEWER))
    assert _fails(lambda: stub.UpdateMember(demote_bob, metadata=alice.metadata))[1] == "MEMBER_OUTRANKS_CALLER"
    stub.LeaveCompany(leave, metadata=alice.metadata)
    members = stub.ListMembers(c.ListMembersRequest(parent=page), metadata=bob.metadata)
    assert [(m.subject, m.role) for m in members.members] == [("kc-bob", page_pb2.PAGE_ROLE_OWNER)]
    bad_mask = c.UpdateMemberRequest(member=promote.member, update_mask=field_mask_pb2.FieldMask(paths=["email"]))
    assert _fails(lambda: stub.UpdateMember(bad_mask, metadata=bob.metadata))[0] == grpc.StatusCode.INVALID_ARGUMENT
    unknown_role = c.UpdateMemberRequest(member=c.Member(name=f"{page}/members/kc-bob", role=9))  # type: ignore[arg-type]
    assert _fails(lambda: stub.UpdateMember(unknown_role, metadata=bob.metadata))[0] == grpc.StatusCode.INVALID_ARGUMENT
    removed = [r for r in outbox(service) if r.event_type == "devinsider.company.v1.MemberRemoved"]
    assert [r.external_id for r in removed] == [f"{page}/members/kc-alice"]


def test_ids_of_another_page_never_reach_its_members(stub: Stub, caller: MakeCaller) -> None:
    alice, mallory = caller("kc-alice"), caller("kc-mallory")
    page_a = _page(stub, alice)
    page_m = _page(stub, mallory)
    # Mallory owns page M and names Alice's membership under M's parent, or under A directly.
    across = c.DeleteMemberRequest(name=f"{page_m}/members/kc-alice")
    assert _fails(lambda: stub.DeleteMember(across, metadata=mallory.metadata))[1] == "MEMBER_NOT_FOUND"
    direct = c.DeleteMemberRequest(name=f"{page_a}/members/kc-alice")
    assert _fails(lambda: stub.DeleteMember(direct, metadata=mallory.metadata))[0] == grpc.StatusCode.PERMISSION_DENIED
    invitation = _invite(stub, alice, page_a, "someone@example.com")
    foreign = c.RevokeInvitationRequest(name=invitation.name.replace(page_a, page_m))
    assert _fails(lambda: stub.RevokeInvitation(foreign, metadata=mallory.metadata))[1] == "INVITATION_NOT_FOUND"
    # A page id that does not exist gives the same answer as one that does: permission first.
    ghost = c.ListMembersRequest(parent="companies/0190aaaa-0000-7000-8000-000000000000")
    assert _fails(lambda: stub.ListMembers(ghost, metadata=mallory.metadata))[0] == grpc.StatusCode.PERMISSION_DENIED


def test_check_page_access_answers_from_membership(stub: Stub, caller: MakeCaller) -> None:
    alice, service_caller = caller("kc-alice"), caller("svc-program", roles=("service",))
    page = _page(stub, alice)
    check = c.CheckPageAccessRequest(page=page, subject="kc-alice", permission=page_pb2.PAGE_PERMISSION_DELETE)
    answer = stub.CheckPageAccess(check, metadata=service_caller.metadata)
    assert answer.allowed and answer.role == page_pb2.PAGE_ROLE_OWNER and answer.cache_ttl_seconds > 0
    stranger = c.CheckPageAccessRequest(
        page=page, subject="kc-nobody", permission=page_pb2.PAGE_PERMISSION_VIEW_PRIVATE
    )
    assert not stub.CheckPageAccess(stranger, metadata=service_caller.metadata).allowed
    stub.DeleteCompany(c.DeleteCompanyRequest(name=page), metadata=alice.metadata)
    assert not stub.CheckPageAccess(check, metadata=service_caller.metadata).allowed
    bad = c.CheckPageAccessRequest(page="users/x", subject="", permission=0)  # type: ignore[arg-type]
    assert (
        _fails(lambda: stub.CheckPageAccess(bad, metadata=service_caller.metadata))[0]
        == grpc.StatusCode.INVALID_ARGUMENT
    )

"""Each RPC through the real server on PostgreSQL: it is wired (success), a refusal reaches the client
as a gRPC status with its details (reason, field violations), and what it changed is in the tables
and the outbox. The rules behind the RPCs are tested without I/O (tests/unit)."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.api import httpbody_pb2
from google.protobuf import field_mask_pb2

from company_service.bootstrap import INVITATION_EXPIRY_JOB, CompanyService
from company_service.settings import CompanySettings
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2 as c
from devinsider.company.v1 import company_pb2_grpc, events_pb2
from devinsider_common.jobs import run_once_across_replicas
from devinsider_common.locks import InProcessLockFactory
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import CallerFactory

from ..conftest import minimal_company
from ..helpers import event_types, invitation_token, mails, outbox, payload

Stub = company_pb2_grpc.CompanyServiceStub
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
INVALID = grpc.StatusCode.INVALID_ARGUMENT
VIEWER = page_pb2.PAGE_ROLE_VIEWER


def test_pages(stub: Stub, callers: CallerFactory, service: CompanyService) -> None:
    alice, staff = callers("kc-alice"), callers("kc-staff", roles=("admin",))
    robot = callers("svc-matching", roles=("service",))
    company = minimal_company(contact=c.CompanyContact(email="hq@acme.io"), industries=["fintech"])
    created = stub.CreateCompany(c.CreateCompanyRequest(company=company, request_id="r-1"), metadata=alice.metadata)
    assert created.viewer_role == page_pb2.PAGE_ROLE_OWNER and created.contact.email == "hq@acme.io"
    public = stub.GetCompany(c.GetCompanyRequest(name=created.name))
    assert public.display_name == "Acme Analytics" and not public.HasField("contact")
    change = c.Company(name=created.name, display_name="Acme 2", tagline="ignored")
    mask = field_mask_pb2.FieldMask(paths=["display_name"])
    updated = stub.UpdateCompany(c.UpdateCompanyRequest(company=change, update_mask=mask), metadata=alice.metadata)
    assert (updated.display_name, updated.tagline) == ("Acme 2", "")
    mask.paths.append("state")
    bad = c.UpdateCompanyRequest(company=change, update_mask=mask)
    assert failure(lambda: stub.UpdateCompany(bad, metadata=alice.metadata)) == Failure(
        INVALID, "INVALID_ARGUMENT", ["update_mask.paths[state]"]
    )
    batch = c.BatchGetCompaniesRequest(names=[created.name, "companies/unknown"])
    found = stub.BatchGetCompanies(batch, metadata=robot.metadata)
    assert [(x.name, x.contact.email) for x in found.companies] == [(created.name, "hq@acme.io")]
    bad_batch = c.BatchGetCompaniesRequest(names=["users/b"])
    assert failure(lambda: stub.BatchGetCompanies(bad_batch, metadata=robot.metadata)).fields == ["names[0]"]
    stub.DeleteCompany(c.DeleteCompanyRequest(name=created.name), metadata=alice.metadata)
    get = c.GetCompanyRequest(name=created.name)
    assert failure(lambda: stub.GetCompany(get, metadata=alice.metadata)) == Failure(
        grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND"
    )
    assert stub.GetCompany(get, metadata=staff.metadata).state == c.COMPANY_STATE_DELETED
    assert event_types(service) == [
        "CompanyCreated", "MemberAdded", "CompanyUpdated", "MemberRemoved", "CompanyDeleted",
    ]  # fmt: skip
    rows = outbox(service)
    assert {r.exchange for r in rows} == {"odoo_company.exchange.direct"}
    member = f"{created.name}/members/kc-alice"
    assert [r.external_id for r in rows] == [created.name, member, created.name, member, created.name]
    event = payload(outbox(service, "CompanyUpdated")[0], events_pb2.CompanyUpdated)
    assert list(event.changed_fields) == ["display_name"] and event.company.contact.email == "hq@acme.io"  # type: ignore[attr-defined]


def test_the_access_policy_and_tokens(stub: Stub, callers: CallerFactory) -> None:
    create = c.CreateCompanyRequest(company=minimal_company())
    assert failure(lambda: stub.CreateCompany(create)) == Failure(grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    broken = (("authorization", "Bearer not-a-token"),)
    assert failure(lambda: stub.CreateCompany(create, metadata=broken)).code == grpc.StatusCode.UNAUTHENTICATED
    investor = callers("kc-inv", roles=("investor",))
    assert failure(lambda: stub.CreateCompany(create, metadata=investor.metadata)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING"
    )
    batch = c.BatchGetCompaniesRequest(names=[])
    assert failure(lambda: stub.BatchGetCompanies(batch, metadata=callers("kc-isv").metadata)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "SERVICE_ONLY"
    )
    # Staff only; naming the user needs the user service, which this test runs without (USER_TARGET unset).
    assign = c.AssignCompanyOwnerRequest(name="companies/nope", user="users/u-1")
    assert failure(lambda: stub.AssignCompanyOwner(assign, metadata=callers("kc-isv").metadata)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING"
    )
    staff = callers("kc-staff", roles=("admin",))
    assert failure(lambda: stub.AssignCompanyOwner(assign, metadata=staff.metadata)) == Failure(
        grpc.StatusCode.UNAVAILABLE, "USER_SERVICE_NOT_CONFIGURED"
    )


def test_the_directory_and_its_page_tokens(stub: Stub, callers: CallerFactory, clock: FakeClock) -> None:
    for i, name in enumerate(("Gamma", "alpha", "Beta")):
        clock.advance(seconds=1)
        stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company(name)), metadata=callers(f"kc-{i}").metadata)
    bob = callers("kc-bob")
    seen: list[str] = []
    token = ""
    for _ in range(3):
        window = stub.ListCompanies(c.ListCompaniesRequest(page_size=1, page_token=token), metadata=bob.metadata)
        assert window.total_size == 3
        seen += [x.display_name for x in window.companies]
        token = window.next_page_token
    assert (seen, token) == (["alpha", "Beta", "Gamma"], "")
    first = stub.ListCompanies(c.ListCompaniesRequest(page_size=1, order_by="create_time desc"), metadata=bob.metadata)
    assert [x.display_name for x in first.companies] == ["Beta"]
    carry_on = c.ListCompaniesRequest(page_size=1, order_by="create_time desc", page_token=first.next_page_token)
    assert [x.display_name for x in stub.ListCompanies(carry_on, metadata=bob.metadata).companies] == ["alpha"]
    # A token is bound to its caller and to its filters.
    for other, metadata in (
        (carry_on, callers("kc-eve").metadata),
        (c.ListCompaniesRequest(page_size=1, page_token=first.next_page_token), bob.metadata),
    ):
        assert failure(lambda o=other, m=metadata: stub.ListCompanies(o, metadata=m)).fields == ["page_token"]  # type: ignore[misc]
    mine = c.ListCompaniesRequest(caller_is_member=True)
    assert failure(lambda: stub.ListCompanies(mine)).code == grpc.StatusCode.UNAUTHENTICATED
    assert [x.display_name for x in stub.ListCompanies(mine, metadata=callers("kc-1").metadata).companies] == ["alpha"]


def test_logos(stub: Stub, callers: CallerFactory, settings: CompanySettings) -> None:
    alice = callers("kc-alice")
    page = stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company()), metadata=alice.metadata).name
    body = httpbody_pb2.HttpBody(content_type="image/png", data=PNG)
    uploaded = stub.UploadCompanyLogo(c.UploadCompanyLogoRequest(name=page, body=body), metadata=alice.metadata)
    assert uploaded.logo_url == f"/v1/{page}/logo"
    served = stub.GetCompanyLogo(c.GetCompanyLogoRequest(name=f"{page}/logo"))
    assert (served.body.content_type, served.body.data) == ("image/png", PNG)
    assert [p.read_bytes() for p in Path(settings.upload_dir).rglob("*.png")] == [PNG]  # on the local disk
    gif = httpbody_pb2.HttpBody(content_type="image/gif", data=b"GIF89a")
    refused = c.UploadCompanyLogoRequest(name=page, body=gif)
    assert failure(lambda: stub.UploadCompanyLogo(refused, metadata=alice.metadata)) == Failure(
        INVALID, "INVALID_ARGUMENT", ["body.content_type", "body.data"]
    )


def test_claims(stub: Stub, callers: CallerFactory, service: CompanyService) -> None:
    staff = callers("kc-staff", roles=("admin",))
    company = c.Company(display_name="Acme", website_url="https://www.acme.io")
    page = stub.CreateCompany(c.CreateCompanyRequest(company=company, pre_listed=True), metadata=staff.metadata).name
    bob = callers("kc-bob", email="bob@acme.io", email_verified=False)
    pending = stub.ClaimCompany(c.ClaimCompanyRequest(name=page, message="CEO"), metadata=bob.metadata)
    assert pending.state == c.COMPANY_STATE_CLAIM_PENDING
    claimed = payload(outbox(service, "CompanyClaimRequested")[0], events_pb2.CompanyClaimRequested)
    assert (claimed.claimant, claimed.claimant_email, claimed.message) == ("kc-bob", "bob@acme.io", "CEO")  # type: ignore[attr-defined]
    reject = c.RejectCompanyClaimRequest(name=page)
    assert failure(lambda: stub.RejectCompanyClaim(reject, metadata=staff.metadata)).fields == ["reason"]
    reject.reason = "no proof"
    assert stub.RejectCompanyClaim(reject, metadata=staff.metadata).state == c.COMPANY_STATE_PRE_LISTED
    (rejected,) = mails(service, "company_claim_rejected")
    assert (rejected.to_email, rejected.variables["reason"]) == ("bob@acme.io", "no proof")
    alice = callers("kc-alice", email="alice@acme.io")
    owned = stub.ClaimCompany(c.ClaimCompanyRequest(name=page), metadata=alice.metadata)
    assert (owned.state, owned.viewer_role) == (c.COMPANY_STATE_ACTIVE, page_pb2.PAGE_ROLE_OWNER)
    assert [m.variables["page_display_name"] for m in mails(service, "company_claim_approved")] == ["Acme"]
    approve = c.ApproveCompanyClaimRequest(name=page)
    assert failure(lambda: stub.ApproveCompanyClaim(approve, metadata=staff.metadata)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "NO_PENDING_CLAIM"
    )


def test_members_invitations_and_the_access_check(stub: Stub, callers: CallerFactory, service: CompanyService) -> None:
    alice, bob = callers("kc-alice"), callers("kc-bob", email="bob@acme.io")
    page = stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company()), metadata=alice.metadata).name
    invite = c.CreateInvitationRequest(
        parent=page, invitation=c.Invitation(email="Bob@Acme.io", role=page_pb2.PAGE_ROLE_ADMIN, message="hi")
    )
    invitation = stub.CreateInvitation(invite, metadata=alice.metadata)
    assert invitation.page_display_name == "Acme Analytics" and invitation.email == "bob@acme.io"
    assert failure(lambda: stub.CreateInvitation(invite, metadata=alice.metadata)) == Failure(
        grpc.StatusCode.ALREADY_EXISTS, "INVITATION_PENDING"
    )
    token = invitation_token(service, invitation.name)
    (mail,) = mails(service, "company_invitation")
    assert (mail.to_email, mail.variables["role"], mail.variables["message"]) == ("bob@acme.io", "admin", "hi")
    assert mail.variables["accept_url"].startswith(service.settings.invitation_accept_url + "?")
    assert not any(token in r.body for r in outbox(service) if r.event_type != "devinsider.common.v1.MailRequested")
    accept = c.AcceptInvitationRequest(name=invitation.name, token=token)
    eve = callers("kc-eve", email="eve@evil.io")
    assert failure(lambda: stub.AcceptInvitation(accept, metadata=eve.metadata)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "INVITATION_EMAIL_MISMATCH"
    )
    assert stub.AcceptInvitation(accept, metadata=bob.metadata).member == f"{page}/members/kc-bob"
    members = stub.ListMembers(c.ListMembersRequest(parent=page), metadata=bob.metadata)
    assert [(m.subject, m.role) for m in members.members] == [("kc-alice", 1), ("kc-bob", 2)]
    promote = c.UpdateMemberRequest(member=c.Member(name=f"{page}/members/kc-bob", role=page_pb2.PAGE_ROLE_OWNER))
    assert stub.UpdateMember(promote, metadata=alice.metadata).role == page_pb2.PAGE_ROLE_OWNER
    stub.LeaveCompany(c.LeaveCompanyRequest(name=page), metadata=alice.metadata)
    last = c.DeleteMemberRequest(name=f"{page}/members/kc-bob")
    assert failure(lambda: stub.DeleteMember(last, metadata=bob.metadata)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER"
    )
    assert failure(lambda: stub.LeaveCompany(c.LeaveCompanyRequest(name=page), metadata=bob.metadata)).reason == (
        "LAST_OWNER"
    )
    second = stub.CreateInvitation(
        c.CreateInvitationRequest(parent=page, invitation=c.Invitation(email="x@example.com", role=VIEWER)),
        metadata=bob.metadata,
    )
    declined = stub.DeclineInvitation(
        c.DeclineInvitationRequest(name=second.name, token=invitation_token(service, second.name))
    )
    assert declined.state == page_pb2.INVITATION_STATE_DECLINED
    third = stub.CreateInvitation(
        c.CreateInvitationRequest(parent=page, invitation=c.Invitation(email="x@example.com", role=VIEWER)),
        metadata=bob.metadata,
    )
    revoke = c.RevokeInvitationRequest(name=third.name)
    assert stub.RevokeInvitation(revoke, metadata=bob.metadata).state == page_pb2.INVITATION_STATE_REVOKED
    listed = stub.ListInvitations(c.ListInvitationsRequest(parent=page), metadata=bob.metadata)
    assert [i.name for i in listed.invitations] == [third.name, second.name, invitation.name]
    x = callers("kc-x", email="x@example.com")
    mine = stub.ListInvitations(c.ListInvitationsRequest(parent="companies/-"), metadata=x.metadata)
    assert [i.page_display_name for i in mine.invitations] == ["Acme Analytics"] * 2
    robot = callers("svc-program", roles=("service",))
    check = c.CheckPageAccessRequest(page=page, subject="kc-bob", permission=page_pb2.PAGE_PERMISSION_DELETE)
    answer = stub.CheckPageAccess(check, metadata=robot.metadata)
    assert answer.allowed and answer.role == page_pb2.PAGE_ROLE_OWNER
    assert answer.cache_ttl_seconds == service.settings.page_access_cache_ttl_seconds
    bad = c.CheckPageAccessRequest(page="users/x")
    assert set(failure(lambda: stub.CheckPageAccess(bad, metadata=robot.metadata)).fields) == {
        "subject",
        "permission",
        "page",
    }
    assert event_types(service)[2:] == [
        "InvitationSent", "MemberAdded", "InvitationChanged", "MemberUpdated", "MemberRemoved",
        "InvitationSent", "InvitationChanged", "InvitationSent", "InvitationChanged",
    ]  # fmt: skip
    left = payload(outbox(service, "MemberRemoved")[0], events_pb2.MemberRemoved)
    assert left.reason == events_pb2.MEMBER_REMOVAL_REASON_LEFT  # type: ignore[attr-defined]


def test_the_expiry_job_expires_overdue_invitations_once(
    stub: Stub, callers: CallerFactory, service: CompanyService, clock: FakeClock
) -> None:
    alice = callers("kc-alice")
    page = stub.CreateCompany(c.CreateCompanyRequest(company=minimal_company()), metadata=alice.metadata).name
    invite = c.CreateInvitationRequest(parent=page, invitation=c.Invitation(email="bob@example.com", role=VIEWER))
    invitation = stub.CreateInvitation(invite, metadata=alice.metadata)
    (job,) = [j for j in service.jobs if j.name == INVITATION_EXPIRY_JOB]
    locks = InProcessLockFactory()
    assert run_once_across_replicas(job, locks) == 0  # not due yet
    clock.advance(hours=service.settings.invitation_ttl_hours + 1)
    assert run_once_across_replicas(job, locks) == 1
    assert run_once_across_replicas(job, locks) == 0  # each invitation expires once
    listed = stub.ListInvitations(c.ListInvitationsRequest(parent=page), metadata=alice.metadata)
    assert [i.state for i in listed.invitations] == [page_pb2.INVITATION_STATE_EXPIRED]
    assert [r.external_id for r in outbox(service, "InvitationChanged")] == [invitation.name]

"""Every RPC of the investor service through the real server on PostgreSQL: requests reach their use
case, answers and refusals come back as the proto says (status, ErrorInfo reason, field violations).
The rules themselves are tested without I/O in tests/unit."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import money_pb2, page_pb2
from devinsider.investor.v1 import events_pb2, investor_pb2
from devinsider.investor.v1.investor_pb2_grpc import InvestorServiceStub
from devinsider_common.outbox.envelope import unpack_payload
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import CallerFactory
from investor_service.bootstrap import InvestorService

from ..conftest import mailed_token, new_investor, outbox

pb = investor_pb2
BAD = grpc.StatusCode.INVALID_ARGUMENT
INVESTOR = ("investor",)


def _eur(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", amount_minor=amount)


def test_pages_create_get_update_delete(
    stub: InvestorServiceStub, service: InvestorService, callers: CallerFactory
) -> None:
    ada = callers("kc-ada", INVESTOR)
    investor = new_investor(
        " Northwind Ventures ",
        hq_country_code="fr",
        ticket_min=_eur(50_000_00),
        funding_stages=["seed", "Series_A", "seed"],
        contact=pb.InvestorContact(email="Deals@Northwind.example", phone_number="+33612345678"),
        state=pb.INVESTOR_STATE_DELETED,  # output only: ignored
    )
    created = stub.CreateInvestor(
        pb.CreateInvestorRequest(investor=investor, request_id=" req-1 "), metadata=ada.metadata
    )
    assert (created.display_name, created.hq_country_code, list(created.funding_stages)) == (
        "Northwind Ventures",
        "FR",
        ["seed", "series_a"],
    )
    assert created.state == pb.INVESTOR_STATE_ACTIVE and created.ticket_min.amount_minor == 50_000_00
    assert created.viewer_role == page_pb2.PAGE_ROLE_OWNER and created.viewer_has_full_access
    assert created.contact.email == "deals@northwind.example" and created.HasField("create_time")
    again = stub.CreateInvestor(pb.CreateInvestorRequest(investor=investor, request_id="req-1"), metadata=ada.metadata)
    assert again.name == created.name  # the key is stripped: the same request
    [event] = outbox(service.engine, "devinsider.investor.v1.InvestorCreated")
    assert unpack_payload(event, events_pb2.InvestorCreated).investor.name == created.name

    public = stub.GetInvestor(pb.GetInvestorRequest(name=created.name))
    assert public.display_name == "Northwind Ventures" and not public.HasField("contact")
    assert not public.viewer_has_full_access and public.viewer_role == page_pb2.PAGE_ROLE_UNSPECIFIED
    assert stub.GetInvestor(pb.GetInvestorRequest(name=created.name), metadata=ada.metadata).contact.phone_number

    # A mask changes its paths only; no mask changes the fields sent; `*` replaces the page.
    sent = pb.Investor(name=created.name, display_name="Renamed", tagline="Seed to series A", ticket_max=_eur(100))
    masked = stub.UpdateInvestor(
        pb.UpdateInvestorRequest(investor=sent, update_mask=field_mask_pb2.FieldMask(paths=["display_name"])),
        metadata=ada.metadata,
    )
    assert (masked.display_name, masked.tagline, masked.ticket_max.amount_minor) == ("Renamed", "", 0)
    contact = pb.InvestorContact(phone_number="+33700000000")
    unmasked = stub.UpdateInvestor(
        pb.UpdateInvestorRequest(investor=pb.Investor(name=created.name, tagline="Seed", contact=contact)),
        metadata=ada.metadata,
    )
    assert (unmasked.display_name, unmasked.tagline) == ("Renamed", "Seed")
    assert (unmasked.contact.phone_number, unmasked.contact.email) == ("+33700000000", "deals@northwind.example")
    assert unmasked.viewer_role == page_pb2.PAGE_ROLE_OWNER
    star = field_mask_pb2.FieldMask(paths=["*"])
    replaced = stub.UpdateInvestor(
        pb.UpdateInvestorRequest(investor=new_investor("Whole Capital", name=created.name), update_mask=star),
        metadata=ada.metadata,
    )
    assert (replaced.display_name, replaced.tagline, replaced.contact.email) == ("Whole Capital", "", "")

    stub.DeleteInvestor(pb.DeleteInvestorRequest(name=created.name), metadata=ada.metadata)
    gone = failure(lambda: stub.GetInvestor(pb.GetInvestorRequest(name=created.name), metadata=ada.metadata))
    assert gone == Failure(grpc.StatusCode.NOT_FOUND, "INVESTOR_NOT_FOUND")
    staff = stub.GetInvestor(
        pb.GetInvestorRequest(name=created.name), metadata=callers("kc-staff", ("admin",)).metadata
    )
    assert staff.state == pb.INVESTOR_STATE_DELETED and staff.HasField("delete_time") and staff.viewer_has_full_access


def test_page_refusals_name_their_fields(stub: InvestorServiceStub, callers: CallerFactory) -> None:
    ada = callers("kc-ada", INVESTOR).metadata
    bad = pb.Investor(display_name="", investor_type=99, website_url="ftp://x.example")  # type: ignore[arg-type]
    invalid = failure(lambda: stub.CreateInvestor(pb.CreateInvestorRequest(investor=bad), metadata=ada))
    assert (invalid.code, invalid.reason) == (BAD, "INVALID_ARGUMENT")
    assert sorted(invalid.fields) == [
        "investor.category",
        "investor.display_name",
        "investor.investor_type",
        "investor.website_url",
    ]
    long_key = pb.CreateInvestorRequest(investor=new_investor(), request_id="k" * 129)
    assert failure(lambda: stub.CreateInvestor(long_key, metadata=ada)).fields == ["request_id"]
    page = stub.CreateInvestor(pb.CreateInvestorRequest(investor=new_investor()), metadata=ada).name
    cases = [
        (pb.Investor(name=page), ["state"], ["update_mask.paths[state]"]),
        (
            pb.Investor(name=page),
            ["create_time", "name"],
            ["update_mask.paths[create_time]", "update_mask.paths[name]"],
        ),
        (pb.Investor(name="companies/x"), ["tagline"], ["investor.name"]),
        (pb.Investor(name=page), ["display_name"], ["investor.display_name"]),
    ]
    for investor, paths, fields in cases:
        request = pb.UpdateInvestorRequest(investor=investor, update_mask=field_mask_pb2.FieldMask(paths=paths))
        got = failure(lambda r=request: stub.UpdateInvestor(r, metadata=ada))  # type: ignore[misc]
        assert (got.code, sorted(got.fields)) == (BAD, sorted(fields)), paths
    for name in ("users/x", "investors/", "investors/a/b"):
        got = failure(lambda n=name: stub.GetInvestor(pb.GetInvestorRequest(name=n)))  # type: ignore[misc]
        assert (got.code, got.fields) == (BAD, ["name"]), name
    not_mine = failure(
        lambda: stub.DeleteInvestor(pb.DeleteInvestorRequest(name=page), metadata=callers("kc-bob", INVESTOR).metadata)
    )
    assert not_mine == Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")


def test_list_investors_filters_windows_and_refusals(stub: InvestorServiceStub, callers: CallerFactory) -> None:
    ada = callers("kc-ada", INVESTOR)
    for name, stages in (("Alpha", ["seed"]), ("Beta", ["seed", "growth"]), ("Gamma", ["growth"]), ("Delta", [])):
        request = pb.CreateInvestorRequest(investor=new_investor(name, funding_stages=stages))
        stub.CreateInvestor(request, metadata=callers(f"kc-{name.lower()}", INVESTOR).metadata)
    listing = pb.ListInvestorsRequest(funding_stages=["SEED", "growth"], page_size=2)
    first = stub.ListInvestors(listing, metadata=ada.metadata)
    assert [i.display_name for i in first.investors] == ["Alpha", "Beta"] and first.total_size == 3
    assert not any(i.HasField("contact") for i in first.investors)  # the directory shows the public view
    listing.page_token = first.next_page_token
    rest = stub.ListInvestors(listing, metadata=ada.metadata)
    assert [i.display_name for i in rest.investors] == ["Gamma"] and rest.next_page_token == ""
    # Page tokens are bound to the caller and to the filters.
    stolen = failure(lambda: stub.ListInvestors(listing, metadata=callers("kc-eve").metadata))
    assert (stolen.code, stolen.fields) == (BAD, ["page_token"])
    listing.funding_stages[:] = ["seed"]
    assert failure(lambda: stub.ListInvestors(listing, metadata=ada.metadata)).fields == ["page_token"]
    newest = stub.ListInvestors(pb.ListInvestorsRequest(order_by="create_time desc"))
    assert [i.display_name for i in newest.investors] == ["Delta", "Gamma", "Beta", "Alpha"]
    mine = stub.ListInvestors(
        pb.ListInvestorsRequest(caller_is_member=True), metadata=callers("kc-beta", INVESTOR).metadata
    )
    assert [(i.display_name, i.viewer_role) for i in mine.investors] == [("Beta", page_pb2.PAGE_ROLE_OWNER)]
    anonymous = failure(lambda: stub.ListInvestors(pb.ListInvestorsRequest(caller_is_member=True)))
    assert anonymous == Failure(grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    staff_only = failure(lambda: stub.ListInvestors(pb.ListInvestorsRequest(states=[pb.INVESTOR_STATE_DELETED])))
    assert staff_only == Failure(grpc.StatusCode.PERMISSION_DENIED, "STATE_FILTER_STAFF_ONLY")
    bad = pb.ListInvestorsRequest(
        categories=[7],  # type: ignore[list-item]
        investor_types=[42],  # type: ignore[list-item]
        states=[9],  # type: ignore[list-item]
        funding_stages=["Seed Stage"],
        country_codes=["FRA"],
        ticket_amount_minor=-5,
        currency_code="EUR",
        order_by="name",
        page_size=-1,
    )
    got = failure(lambda: stub.ListInvestors(bad))
    assert (got.code, sorted(got.fields)) == (
        BAD,
        [
            "categories[0]",
            "country_codes[0]",
            "funding_stages[0]",
            "investor_types[0]",
            "order_by",
            "states[0]",
            "ticket_amount_minor",
        ],
    )
    assert failure(lambda: stub.ListInvestors(pb.ListInvestorsRequest(page_size=-1))).fields == ["page_size"]


def test_batch_get_and_check_page_access_for_services(stub: InvestorServiceStub, callers: CallerFactory) -> None:
    ada = callers("kc-ada", INVESTOR).metadata
    service = callers("service-matching", ("service",)).metadata
    contact = pb.InvestorContact(email="deals@a.example")
    first = stub.CreateInvestor(pb.CreateInvestorRequest(investor=new_investor("A", contact=contact)), metadata=ada)
    second = stub.CreateInvestor(pb.CreateInvestorRequest(investor=new_investor("B")), metadata=ada)
    unknown = "investors/01900000-0000-7000-8000-000000000000"
    got = stub.BatchGetInvestors(
        pb.BatchGetInvestorsRequest(names=[second.name, unknown, first.name]), metadata=service
    )
    assert [i.name for i in got.investors] == [second.name, first.name]
    assert all(i.viewer_has_full_access for i in got.investors) and got.investors[1].contact.email == "deals@a.example"
    names = pb.BatchGetInvestorsRequest(names=[first.name, "users/x", "investors/"])
    assert failure(lambda: stub.BatchGetInvestors(names, metadata=service)).fields == ["names[1]", "names[2]"]
    assert failure(
        lambda: stub.BatchGetInvestors(pb.BatchGetInvestorsRequest(names=[first.name] * 201), metadata=service)
    ).fields == ["names"]
    check = pb.CheckPageAccessRequest(page=first.name, subject="kc-ada", permission=page_pb2.PAGE_PERMISSION_DELETE)
    answer = stub.CheckPageAccess(check, metadata=service)
    assert (answer.allowed, answer.role, answer.cache_ttl_seconds) == (True, page_pb2.PAGE_ROLE_OWNER, 10)
    check.subject = "kc-bob"
    answer = stub.CheckPageAccess(check, metadata=service)
    assert (answer.allowed, answer.role) == (False, page_pb2.PAGE_ROLE_UNSPECIFIED)
    empty = failure(lambda: stub.CheckPageAccess(pb.CheckPageAccessRequest(page="companies/x"), metadata=service))
    assert sorted(empty.fields) == ["page", "permission", "subject"]


def test_members_and_invitations(stub: InvestorServiceStub, service: InvestorService, callers: CallerFactory) -> None:
    owner, bob = callers("kc-owner", INVESTOR), callers("kc-bob", INVESTOR, email="bob@example.com")
    page = stub.CreateInvestor(pb.CreateInvestorRequest(investor=new_investor("Page")), metadata=owner.metadata).name

    def invite(email: str, role: int = page_pb2.PAGE_ROLE_EDITOR) -> pb.Invitation:
        invitation = pb.Invitation(email=email, role=role, message="Hi")  # type: ignore[arg-type]
        return stub.CreateInvitation(
            pb.CreateInvitationRequest(parent=page, invitation=invitation), metadata=owner.metadata
        )

    invitation = invite("Bob@Example.com")
    assert (invitation.email, invitation.state, invitation.page_display_name) == (
        "bob@example.com",
        page_pb2.INVITATION_STATE_PENDING,
        "Page",
    )
    assert invitation.name.startswith(f"{page}/invitations/") and invitation.inviter == "kc-owner"
    token = mailed_token(service.engine, "bob@example.com")
    assert failure(
        lambda: stub.AcceptInvitation(pb.AcceptInvitationRequest(name=invitation.name), metadata=bob.metadata)
    ).fields == ["token"]
    accepted = stub.AcceptInvitation(
        pb.AcceptInvitationRequest(name=invitation.name, token=token), metadata=bob.metadata
    )
    assert accepted.state == page_pb2.INVITATION_STATE_ACCEPTED and accepted.member == f"{page}/members/kc-bob"
    again = failure(
        lambda: stub.AcceptInvitation(
            pb.AcceptInvitationRequest(name=invitation.name, token=token), metadata=bob.metadata
        )
    )
    assert again == Failure(grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_NOT_PENDING")

    members = stub.ListMembers(
        pb.ListMembersRequest(parent=page, role=page_pb2.PAGE_ROLE_EDITOR), metadata=owner.metadata
    )
    assert [(m.name, m.subject, m.email) for m in members.members] == [
        (f"{page}/members/kc-bob", "kc-bob", "bob@example.com")
    ]
    viewer = pb.Member(name=f"{page}/members/kc-bob", role=page_pb2.PAGE_ROLE_VIEWER)
    updated = stub.UpdateMember(pb.UpdateMemberRequest(member=viewer), metadata=owner.metadata)
    assert updated.role == page_pb2.PAGE_ROLE_VIEWER
    stub.LeaveInvestor(pb.LeaveInvestorRequest(name=page), metadata=bob.metadata)
    last = failure(lambda: stub.LeaveInvestor(pb.LeaveInvestorRequest(name=page), metadata=owner.metadata))
    assert last == Failure(grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER")

    carol = invite("carol@example.com", page_pb2.PAGE_ROLE_VIEWER)
    carol_token = mailed_token(service.engine, "carol@example.com")
    stub.AcceptInvitation(
        pb.AcceptInvitationRequest(name=carol.name, token=carol_token), metadata=callers("carol").metadata
    )
    stub.DeleteMember(pb.DeleteMemberRequest(name=f"{page}/members/carol"), metadata=owner.metadata)
    members = stub.ListMembers(pb.ListMembersRequest(parent=page), metadata=owner.metadata)
    assert [m.subject for m in members.members] == ["kc-owner"]

    dan = invite("dan@example.com")
    declined = stub.DeclineInvitation(
        pb.DeclineInvitationRequest(name=dan.name, token=mailed_token(service.engine, "dan@example.com"))
    )
    assert declined.state == page_pb2.INVITATION_STATE_DECLINED
    eve = invite("eve@example.com")
    revoked = stub.RevokeInvitation(pb.RevokeInvitationRequest(name=eve.name), metadata=owner.metadata)
    assert revoked.state == page_pb2.INVITATION_STATE_REVOKED
    invite("EVE@example.com")  # revoked: a new one may be sent, but only one at a time
    pending = failure(lambda: invite("eve@example.com"))
    assert pending == Failure(grpc.StatusCode.ALREADY_EXISTS, "INVITATION_PENDING")
    listed = stub.ListInvitations(
        pb.ListInvitationsRequest(parent=page, state=page_pb2.INVITATION_STATE_DECLINED), metadata=owner.metadata
    )
    assert [i.name for i in listed.invitations] == [dan.name]
    mine = stub.ListInvitations(pb.ListInvitationsRequest(parent="investors/-"), metadata=bob.metadata)
    assert [(i.name, i.page_display_name) for i in mine.invitations] == [(invitation.name, "Page")]

    # What the servicer checks before any use case.
    auth = owner.metadata
    no_role = pb.UpdateMemberRequest(member=pb.Member(name=f"{page}/members/kc-bob"))
    not_a_member = pb.UpdateMemberRequest(
        member=pb.Member(name=f"{page}/invitations/x", role=page_pb2.PAGE_ROLE_VIEWER)
    )
    no_invitation_role = pb.CreateInvitationRequest(parent=page, invitation=pb.Invitation(email="x@example.com"))
    refusals: list[tuple[Callable[[], object], list[str]]] = [
        (lambda: stub.UpdateMember(no_role, metadata=auth), ["member.role"]),
        (lambda: stub.UpdateMember(not_a_member, metadata=auth), ["member.name"]),
        (lambda: stub.ListMembers(pb.ListMembersRequest(parent=page, role=9), metadata=auth), ["role"]),  # type: ignore[arg-type]
        (lambda: stub.CreateInvitation(no_invitation_role, metadata=auth), ["invitation.role"]),
        (lambda: stub.ListInvitations(pb.ListInvitationsRequest(parent=page, state=9), metadata=auth), ["state"]),  # type: ignore[arg-type]
        (lambda: stub.DeleteMember(pb.DeleteMemberRequest(name="companies/x/members/y"), metadata=auth), ["name"]),
    ]
    for call, fields in refusals:
        got = failure(call)
        assert (got.code, got.fields) == (BAD, fields)

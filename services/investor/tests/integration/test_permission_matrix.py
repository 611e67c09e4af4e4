"""Who may call what: every RPC against every kind of caller, from one table, exact status codes.

Callers: anonymous; realm roles isv, guest, investor (member of nothing), admin (staff), service;
the page's owner, admin, editor and viewer; and the owner of ANOTHER page using this page's ids.
Each case runs on a fresh page, so destructive calls never influence the next case.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import page_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.investor.v1.investor_pb2_grpc import InvestorServiceStub

from ..conftest import Builder, Metadata, Page, mailed_token, new_investor

OK = grpc.StatusCode.OK
U = grpc.StatusCode.UNAUTHENTICATED
P = grpc.StatusCode.PERMISSION_DENIED
N = grpc.StatusCode.NOT_FOUND
F = grpc.StatusCode.FAILED_PRECONDITION

CALLERS = ("anonymous", "isv", "guest", "stranger", "staff", "service", "owner", "admin", "editor", "viewer", "other")
REALM = {
    "isv": ("kc-isv", ("isv",)),
    "guest": ("kc-guest", ("guest",)),
    "stranger": ("kc-stranger", ("investor",)),
    "staff": ("kc-staff", ("admin",)),
    "service": ("service-matching", ("service",)),
    "other": ("q-owner", ("investor",)),  # owner of page Q, calling with page P's ids
}

Call = Callable[[InvestorServiceStub, Builder, Page, Metadata], object]


def _update(stub: InvestorServiceStub, b: Builder, page: Page, auth: Metadata) -> object:
    request = investor_pb2.UpdateInvestorRequest(
        investor=investor_pb2.Investor(name=page.name, tagline="Seed to series A"),
        update_mask=field_mask_pb2.FieldMask(paths=["tagline"]),
    )
    return stub.UpdateInvestor(request, metadata=auth)


def _update_member(stub: InvestorServiceStub, b: Builder, page: Page, auth: Metadata) -> object:
    member = investor_pb2.Member(name=f"{page.name}/members/p-viewer", role=page_pb2.PAGE_ROLE_EDITOR)
    return stub.UpdateMember(investor_pb2.UpdateMemberRequest(member=member), metadata=auth)


def _invite(stub: InvestorServiceStub, b: Builder, page: Page, auth: Metadata) -> object:
    invitation = investor_pb2.Invitation(email="newcomer@example.com", role=page_pb2.PAGE_ROLE_VIEWER)
    return stub.CreateInvitation(
        investor_pb2.CreateInvitationRequest(parent=page.name, invitation=invitation), metadata=auth
    )


def _accept(stub: InvestorServiceStub, b: Builder, page: Page, auth: Metadata) -> object:
    token = mailed_token(b.service.engine, page.pending_email)  # the right token, the wrong person
    request = investor_pb2.AcceptInvitationRequest(name=page.pending_invitation, token=token)
    return stub.AcceptInvitation(request, metadata=auth)


RPCS: dict[str, Call] = {
    "GetInvestor": lambda s, b, p, a: s.GetInvestor(investor_pb2.GetInvestorRequest(name=p.name), metadata=a),
    "ListInvestors": lambda s, b, p, a: s.ListInvestors(investor_pb2.ListInvestorsRequest(), metadata=a),
    "CreateInvestor": lambda s, b, p, a: s.CreateInvestor(
        investor_pb2.CreateInvestorRequest(investor=new_investor("Fresh Fund")), metadata=a
    ),
    "UpdateInvestor": _update,
    "DeleteInvestor": lambda s, b, p, a: s.DeleteInvestor(investor_pb2.DeleteInvestorRequest(name=p.name), metadata=a),
    "BatchGetInvestors": lambda s, b, p, a: s.BatchGetInvestors(
        investor_pb2.BatchGetInvestorsRequest(names=[p.name]), metadata=a
    ),
    "CheckPageAccess": lambda s, b, p, a: s.CheckPageAccess(
        investor_pb2.CheckPageAccessRequest(page=p.name, subject="p-owner", permission=page_pb2.PAGE_PERMISSION_EDIT),
        metadata=a,
    ),
    "ListMembers": lambda s, b, p, a: s.ListMembers(investor_pb2.ListMembersRequest(parent=p.name), metadata=a),
    "UpdateMember": _update_member,
    "DeleteMember": lambda s, b, p, a: s.DeleteMember(
        investor_pb2.DeleteMemberRequest(name=f"{p.name}/members/p-viewer"), metadata=a
    ),
    "LeaveInvestor": lambda s, b, p, a: s.LeaveInvestor(investor_pb2.LeaveInvestorRequest(name=p.name), metadata=a),
    "CreateInvitation": _invite,
    "ListInvitations": lambda s, b, p, a: s.ListInvitations(
        investor_pb2.ListInvitationsRequest(parent=p.name), metadata=a
    ),
    "RevokeInvitation": lambda s, b, p, a: s.RevokeInvitation(
        investor_pb2.RevokeInvitationRequest(name=p.pending_invitation), metadata=a
    ),
    "AcceptInvitation": _accept,
    # Without the mailed token only the signed-in invitee may decline; none of these callers is.
    "DeclineInvitation": lambda s, b, p, a: s.DeclineInvitation(
        investor_pb2.DeclineInvitationRequest(name=p.pending_invitation), metadata=a
    ),
}

# Expected code per RPC, in the order of CALLERS.
#                        anon isv guest strngr staff svc owner admin editor viewer other
MATRIX: dict[str, tuple[grpc.StatusCode, ...]] = {
    "GetInvestor":       (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "ListInvestors":     (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "CreateInvestor":    (U,  P,  P,  OK, OK, OK, OK, OK, OK, OK, OK),
    "UpdateInvestor":    (U,  P,  P,  P,  OK, P,  OK, OK, OK, P,  P),
    "DeleteInvestor":    (U,  P,  P,  P,  OK, P,  OK, P,  P,  P,  P),
    "BatchGetInvestors": (U,  P,  P,  P,  P,  OK, P,  P,  P,  P,  P),
    "CheckPageAccess":   (U,  P,  P,  P,  P,  OK, P,  P,  P,  P,  P),
    "ListMembers":       (U,  P,  P,  P,  OK, P,  OK, OK, OK, OK, P),
    "UpdateMember":      (U,  P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "DeleteMember":      (U,  P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "LeaveInvestor":     (U,  N,  N,  N,  N,  N,  F,  OK, OK, OK, N),
    "CreateInvitation":  (U,  P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "ListInvitations":   (U,  P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "RevokeInvitation":  (U,  P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "AcceptInvitation":  (U,  P,  P,  P,  P,  P,  P,  P,  P,  P,  P),
    "DeclineInvitation": (P,  P,  P,  P,  P,  P,  P,  P,  P,  P,  P),
}  # fmt: skip


def test_the_matrix_covers_every_rpc_of_the_service() -> None:
    methods = {m.name for m in investor_pb2.DESCRIPTOR.services_by_name["InvestorService"].methods}
    assert set(MATRIX) == set(RPCS) == methods
    assert all(len(row) == len(CALLERS) for row in MATRIX.values())


def _auth(builder: Builder, caller: str) -> Metadata:
    if caller == "anonymous":
        return ()
    if caller in REALM:
        subject, roles = REALM[caller]
        return builder.auth(subject, roles)
    return builder.auth(f"p-{caller}")


@pytest.mark.parametrize("rpc", sorted(MATRIX))
def test_permission_matrix(rpc: str, builder: Builder) -> None:
    builder.page("q", roles=(), invite=False)  # the other organisation's page, owned by q-owner
    wrong: list[str] = []
    for caller, expected in zip(CALLERS, MATRIX[rpc], strict=True):
        page = builder.page("p")
        try:
            RPCS[rpc](builder.stub, builder, page, _auth(builder, caller))
            code = OK
        except grpc.RpcError as error:
            code = error.code()
        if code != expected:
            wrong.append(f"{caller}: got {code.name}, expected {expected.name}")
    assert not wrong, f"{rpc}: " + "; ".join(wrong)


def test_restricted_fields_show_to_members_staff_and_services_only(builder: Builder) -> None:
    builder.page("q", roles=(), invite=False)
    page = builder.page("p", invite=False)
    full = {"staff", "service", "owner", "admin", "editor", "viewer"}
    for caller in CALLERS:
        got = builder.stub.GetInvestor(investor_pb2.GetInvestorRequest(name=page.name), metadata=_auth(builder, caller))
        sees = caller in full
        assert got.viewer_has_full_access is sees, caller
        assert got.contact.email == ("deals@p.example" if sees else ""), caller
        expected_role = ROLE_OF.get(caller, page_pb2.PAGE_ROLE_UNSPECIFIED)
        assert got.viewer_role == expected_role, caller


ROLE_OF = {
    "owner": page_pb2.PAGE_ROLE_OWNER,
    "admin": page_pb2.PAGE_ROLE_ADMIN,
    "editor": page_pb2.PAGE_ROLE_EDITOR,
    "viewer": page_pb2.PAGE_ROLE_VIEWER,
}


def test_ids_of_one_page_under_another_pages_name_find_nothing(builder: Builder) -> None:
    """The owner of Q manages Q; P's member and invitation ids under Q's name are NOT_FOUND, and P is untouched."""
    mine = builder.page("q", roles=(), invite=False)
    theirs = builder.page("p")
    auth = builder.auth("q-owner")
    invitation_id = theirs.pending_invitation.rsplit("/", 1)[1]
    token = mailed_token(builder.service.engine, theirs.pending_email)
    calls: list[Callable[[], object]] = [
        lambda: builder.stub.RevokeInvitation(
            investor_pb2.RevokeInvitationRequest(name=f"{mine.name}/invitations/{invitation_id}"), metadata=auth
        ),
        lambda: builder.stub.DeleteMember(
            investor_pb2.DeleteMemberRequest(name=f"{mine.name}/members/p-viewer"), metadata=auth
        ),
        lambda: builder.stub.UpdateMember(
            investor_pb2.UpdateMemberRequest(
                member=investor_pb2.Member(name=f"{mine.name}/members/p-admin", role=page_pb2.PAGE_ROLE_VIEWER)
            ),
            metadata=auth,
        ),
        lambda: builder.stub.DeclineInvitation(
            investor_pb2.DeclineInvitationRequest(name=f"{mine.name}/invitations/{invitation_id}", token=token),
            metadata=auth,
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as error:
            call()
        assert error.value.code() == N
    members = builder.stub.ListMembers(
        investor_pb2.ListMembersRequest(parent=theirs.name), metadata=builder.auth("p-owner")
    )
    assert {(m.subject, m.role) for m in members.members} == {
        ("p-owner", page_pb2.PAGE_ROLE_OWNER),
        ("p-admin", page_pb2.PAGE_ROLE_ADMIN),
        ("p-editor", page_pb2.PAGE_ROLE_EDITOR),
        ("p-viewer", page_pb2.PAGE_ROLE_VIEWER),
    }
    pending = builder.stub.ListInvitations(
        investor_pb2.ListInvitationsRequest(parent=theirs.name, state=page_pb2.INVITATION_STATE_PENDING),
        metadata=builder.auth("p-owner"),
    )
    assert [i.name for i in pending.invitations] == [theirs.pending_invitation]


def test_unknown_pages_deny_strangers_before_telling_they_do_not_exist(builder: Builder) -> None:
    """Permission before existence: a stranger gets PERMISSION_DENIED on a missing page, staff NOT_FOUND."""
    missing = "investors/01900000-0000-7000-8000-000000000000"
    request = investor_pb2.ListMembersRequest(parent=missing)
    with pytest.raises(grpc.RpcError) as stranger:
        builder.stub.ListMembers(request, metadata=builder.auth("kc-stranger"))
    with pytest.raises(grpc.RpcError) as staff:
        builder.stub.ListMembers(request, metadata=builder.auth("kc-staff", ("admin",)))
    assert (stranger.value.code(), staff.value.code()) == (P, N)

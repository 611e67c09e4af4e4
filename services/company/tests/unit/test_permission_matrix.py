"""Every RPC against every kind of caller, from one table: the exact status code each one gets.

Callers: anonymous; realm roles without a membership (isv, investor, guest, platform admin,
service); the page roles owner/admin/editor/viewer of page P; the owner of ANOTHER page Q using
P's ids. Each case runs on a fresh in-memory world (pages P, Q, a pre-listed R with a pending
claim, a pre-listed page, a pending invitation and a logo on P), through the servicer with the
RPC's declared access policy (tests/inprocess.py). That the server applies the same policy and
maps the refusals to the same codes is shown once per RPC in tests/integration/test_wiring.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.api import httpbody_pb2

from company_service.domain.model import Claim, CompanyState
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.principal import Principal
from devinsider_common.errors import DomainError
from devinsider_common.pages.ports import DirectoryUser
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import failure_of

from ..fakes import World, mailed_token, person, world
from ..inprocess import Rpcs

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OK = grpc.StatusCode.OK
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
MISSING = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT

# Callers: (realm roles, page role on P or "other" for Q's owner)
CALLERS: dict[str, tuple[tuple[str, ...], PageRole | str | None]] = {
    "anonymous": ((), None),
    "isv": (("isv",), None),
    "investor": (("investor",), None),
    "guest": (("guest",), None),
    "staff": (("admin",), None),
    "service": (("service",), None),
    "owner": (("isv",), PageRole.OWNER),
    "page_admin": (("isv",), PageRole.ADMIN),
    "editor": (("isv",), PageRole.EDITOR),
    "viewer": (("isv",), PageRole.VIEWER),
    "other_owner": (("isv",), "other"),
}
MEMBERS = ("owner", "page_admin", "editor", "viewer")


def expect(default: grpc.StatusCode, **codes: grpc.StatusCode) -> dict[str, grpc.StatusCode]:
    table = {name: default for name in CALLERS}
    table["anonymous"] = codes.pop("anonymous", UNAUTH)
    table.update(codes)
    return table


def members_ok(default: grpc.StatusCode = DENIED, **codes: grpc.StatusCode) -> dict[str, grpc.StatusCode]:
    return expect(default, **(dict.fromkeys(MEMBERS, OK) | codes))


EXPECTED: dict[str, dict[str, grpc.StatusCode]] = {
    "GetCompany": expect(OK, anonymous=OK),
    "ListCompanies": expect(OK, anonymous=OK),
    "GetCompanyLogo": expect(OK, anonymous=OK),
    # The owner and Q's owner already founded a page; services only pre-list.
    "CreateCompany": expect(
        OK, investor=DENIED, guest=DENIED, service=INVALID, owner=PRECONDITION, other_owner=PRECONDITION
    ),
    "UpdateCompany": members_ok(staff=OK, viewer=DENIED),
    "UploadCompanyLogo": members_ok(staff=OK, viewer=DENIED),
    "DeleteCompany": expect(DENIED, owner=OK, staff=OK),
    "BatchGetCompanies": expect(DENIED, service=OK),
    "ClaimCompany": expect(
        DENIED, isv=OK, guest=OK, owner=PRECONDITION, page_admin=OK, editor=OK, viewer=OK, other_owner=PRECONDITION
    ),
    "ApproveCompanyClaim": expect(DENIED, staff=OK, service=OK),
    # Platform staff give a page an owner (one more here: P has one), whatever the caller's page role.
    "AssignCompanyOwner": expect(DENIED, staff=OK, service=OK),
    "RejectCompanyClaim": expect(DENIED, staff=OK, service=OK),
    "ListMembers": members_ok(staff=OK),
    "UpdateMember": expect(DENIED, owner=OK, page_admin=OK, staff=OK),
    "DeleteMember": expect(DENIED, owner=OK, page_admin=OK, staff=OK),
    # The owner is the last one; callers who are not members of P are told so.
    "LeaveCompany": members_ok(MISSING, owner=PRECONDITION),
    "CreateInvitation": expect(DENIED, owner=OK, page_admin=OK, staff=OK),
    "ListInvitations": expect(DENIED, owner=OK, page_admin=OK, staff=OK),
    "RevokeInvitation": expect(DENIED, owner=OK, page_admin=OK, staff=OK),
    # The invitation was sent to someone else: the right token with another e-mail is refused.
    "AcceptInvitation": expect(DENIED),
    "DeclineInvitation": expect(DENIED, anonymous=DENIED),
    "CheckPageAccess": expect(DENIED, service=OK),
}

SUBJECTS = {name: f"kc-{name}" for name in CALLERS}


def _principal(caller: str) -> Principal | None:
    if caller == "anonymous":
        return None
    return person(SUBJECTS[caller], CALLERS[caller][0])


def _requests(w: World) -> dict[str, Any]:
    """The world of one case, and the request of every RPC against it."""
    roles = {SUBJECTS[name]: role for name in MEMBERS if isinstance(role := CALLERS[name][1], PageRole)}
    p = w.seed(roles, founder=SUBJECTS["owner"])
    w.seed({SUBJECTS["other_owner"]: PageRole.OWNER}, founder=SUBJECTS["other_owner"])
    r = w.seed({}, CompanyState.CLAIM_PENDING, claim=Claim("kc-claimant", email="claimant@example.com"))
    pre = w.seed({}, CompanyState.PRE_LISTED)
    owner = person(SUBJECTS["owner"])
    w.app.logos.upload(owner, p, "image/png", PNG)
    invitation = w.app.invitations.create(owner, p, "invitee@example.com", PageRole.VIEWER, "")
    invitation_name = f"companies/{p}/invitations/{invitation.id}"
    token = mailed_token(w.store, "invitee@example.com")
    w.users.add(DirectoryUser("users/u-newcomer", "kc-newcomer", "Newcomer", "newcomer@example.com"))
    c = company_pb2
    return {
        "GetCompany": c.GetCompanyRequest(name=f"companies/{p}"),
        "ListCompanies": c.ListCompaniesRequest(),
        "GetCompanyLogo": c.GetCompanyLogoRequest(name=f"companies/{p}/logo"),
        "CreateCompany": c.CreateCompanyRequest(company=c.Company(display_name="New")),
        "UpdateCompany": c.UpdateCompanyRequest(company=c.Company(name=f"companies/{p}", display_name="Renamed")),
        "UploadCompanyLogo": c.UploadCompanyLogoRequest(
            name=f"companies/{p}", body=httpbody_pb2.HttpBody(content_type="image/png", data=PNG)
        ),
        "DeleteCompany": c.DeleteCompanyRequest(name=f"companies/{p}"),
        "BatchGetCompanies": c.BatchGetCompaniesRequest(names=[f"companies/{p}"]),
        "ClaimCompany": c.ClaimCompanyRequest(name=f"companies/{pre}"),
        "ApproveCompanyClaim": c.ApproveCompanyClaimRequest(name=f"companies/{r}"),
        "RejectCompanyClaim": c.RejectCompanyClaimRequest(name=f"companies/{r}", reason="no proof"),
        "ListMembers": c.ListMembersRequest(parent=f"companies/{p}"),
        "UpdateMember": c.UpdateMemberRequest(
            member=c.Member(name=f"companies/{p}/members/{SUBJECTS['viewer']}", role=page_pb2.PAGE_ROLE_EDITOR)
        ),
        "DeleteMember": c.DeleteMemberRequest(name=f"companies/{p}/members/{SUBJECTS['editor']}"),
        "LeaveCompany": c.LeaveCompanyRequest(name=f"companies/{p}"),
        "AssignCompanyOwner": c.AssignCompanyOwnerRequest(name=f"companies/{p}", user="users/u-newcomer"),
        "CreateInvitation": c.CreateInvitationRequest(
            parent=f"companies/{p}",
            invitation=c.Invitation(email="new@example.com", role=page_pb2.PAGE_ROLE_VIEWER),
        ),
        "ListInvitations": c.ListInvitationsRequest(parent=f"companies/{p}"),
        "RevokeInvitation": c.RevokeInvitationRequest(name=invitation_name),
        "AcceptInvitation": c.AcceptInvitationRequest(name=invitation_name, token=token),
        "DeclineInvitation": c.DeclineInvitationRequest(name=invitation_name),
        "CheckPageAccess": c.CheckPageAccessRequest(
            page=f"companies/{p}", subject=SUBJECTS["editor"], permission=page_pb2.PAGE_PERMISSION_EDIT
        ),
    }


CASES = [(rpc, caller) for rpc, table in EXPECTED.items() for caller in table]


def test_every_rpc_is_in_the_matrix_and_the_servicer() -> None:
    methods = company_pb2.DESCRIPTOR.services_by_name["CompanyService"].methods_by_name
    assert set(EXPECTED) == set(methods)
    # Every RPC is served by our servicer or its membership mixin, none by the UNIMPLEMENTED default.
    servicer = type(Rpcs(world()).servicer)
    default = company_pb2_grpc.CompanyServiceServicer
    assert [name for name in methods if getattr(servicer, name) is getattr(default, name)] == []


@pytest.mark.parametrize(("rpc", "caller"), CASES, ids=[f"{r}-{c}" for r, c in CASES])
def test_permission_matrix(rpc: str, caller: str) -> None:
    w = world()
    request = _requests(w)[rpc]
    try:
        Rpcs(w).call(rpc, request, _principal(caller))
        code = OK
    except DomainError as error:
        code = failure_of(error).code
    assert code == EXPECTED[rpc][caller]


def test_a_refused_call_changes_nothing() -> None:
    """What a refusal leaves behind: no commit, no event (one case of each refusal kind)."""
    for rpc, caller in (("DeleteCompany", "editor"), ("CreateCompany", "owner"), ("ApproveCompanyClaim", "isv")):
        w = world()
        request = _requests(w)[rpc]
        before = (w.store.commits, len(w.events()), {k: replace(v) for k, v in w.store.tables["companies"].items()})
        with pytest.raises(DomainError):
            Rpcs(w).call(rpc, request, _principal(caller))
        after = (w.store.commits, len(w.events()), w.store.tables["companies"])
        assert after == before, (rpc, caller)

"""Every RPC against every kind of caller, from one table: the exact status code each one gets.

Callers: anonymous; realm roles without a membership (isv, investor, guest, platform admin,
service); the page roles owner/admin/editor/viewer of page P; the owner of ANOTHER page Q using
P's ids. Each case runs on a fresh world (pages P, Q, a pre-listed R with a pending claim, a
pending invitation and a logo on P) in one server per database.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.api import httpbody_pb2

from company_service.bootstrap import CompanyService, start
from company_service.domain.model import Claim, CompanyState
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.principal import Principal
from devinsider_common.db.engine import create_service_engine, drop_schema, ensure_schema
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing import infra

from ..conftest import ISSUER, FakeClock, make_settings
from ..helpers import invitation_token, seed_company, uow

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


@dataclass
class World:
    service: CompanyService
    stub: company_pb2_grpc.CompanyServiceStub
    clock: FakeClock
    key_dir: Path

    def metadata(self, caller: str, subjects: dict[str, str]) -> tuple[tuple[str, str], ...]:
        if caller == "anonymous":
            return ()
        roles, _ = CALLERS[caller]
        subject = subjects[caller]
        token = issue_token(self.key_dir, ISSUER, subject, roles=roles, email=f"{subject}@example.com")
        return (("authorization", f"Bearer {token}"),)


_counter = itertools.count()


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("matrix")
    admin = None
    if request.param == "sqlite":
        url, schema = f"sqlite+pysqlite:///{tmp / 'company.sqlite3'}", "company"
    else:
        infra.require("127.0.0.1", 5432, "PostgreSQL")
        url, schema = infra.POSTGRES_URL, infra.unique_name("t")
        admin = create_service_engine(url, "public")
        ensure_schema(admin, schema)
    clock = FakeClock()
    service = start(make_settings(tmp, url, schema), clock=clock, run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            yield World(service, company_pb2_grpc.CompanyServiceStub(channel), clock, tmp / "keys")
    finally:
        service.stop(grace=0)
        if admin is not None:
            drop_schema(admin, schema)
            admin.dispose()


def _requests(world: World, subjects: dict[str, str]) -> dict[str, Any]:
    """A fresh world for one case, and the request of every RPC against it."""
    n = next(_counter)
    now = world.clock()
    roles = {subjects[name]: role for name in MEMBERS if isinstance(role := CALLERS[name][1], PageRole)}
    p = seed_company(world.service, now, roles)
    q = seed_company(world.service, now, {subjects["other_owner"]: PageRole.OWNER})
    claimant = Claim(f"kc-claimant-{n}", email=f"claimant-{n}@example.com")
    r = seed_company(world.service, now, {}, CompanyState.CLAIM_PENDING, claim=claimant)
    pre = seed_company(world.service, now, {}, CompanyState.PRE_LISTED)
    # The owner and Q's owner founded their pages (one page per founder).
    with uow(world.service) as unit:
        for page_id, subject in ((p, subjects["owner"]), (q, subjects["other_owner"])):
            company = unit.companies.get(page_id)
            assert company is not None
            unit.companies.save(replace(company, founder=subject))
        unit.commit()
    owner = Principal(subjects["owner"], frozenset({"isv"}), email=f"{subjects['owner']}@example.com")
    world.service.app.logos.upload(owner, p, "image/png", PNG)
    invitation = world.service.app.invitations.create(owner, p, f"invitee-{n}@example.com", PageRole.VIEWER, "")
    invitation_name = f"companies/{p}/invitations/{invitation.id}"
    token = invitation_token(world.service, invitation_name)
    c = company_pb2
    return {
        "GetCompany": c.GetCompanyRequest(name=f"companies/{p}"),
        "ListCompanies": c.ListCompaniesRequest(),
        "GetCompanyLogo": c.GetCompanyLogoRequest(name=f"companies/{p}/logo"),
        "CreateCompany": c.CreateCompanyRequest(company=c.Company(display_name=f"New {n}")),
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
            member=c.Member(name=f"companies/{p}/members/{subjects['viewer']}", role=page_pb2.PAGE_ROLE_EDITOR)
        ),
        "DeleteMember": c.DeleteMemberRequest(name=f"companies/{p}/members/{subjects['editor']}"),
        "LeaveCompany": c.LeaveCompanyRequest(name=f"companies/{p}"),
        "CreateInvitation": c.CreateInvitationRequest(
            parent=f"companies/{p}",
            invitation=c.Invitation(email=f"new-{n}@example.com", role=page_pb2.PAGE_ROLE_VIEWER),
        ),
        "ListInvitations": c.ListInvitationsRequest(parent=f"companies/{p}"),
        "RevokeInvitation": c.RevokeInvitationRequest(name=invitation_name),
        "AcceptInvitation": c.AcceptInvitationRequest(name=invitation_name, token=token),
        "DeclineInvitation": c.DeclineInvitationRequest(name=invitation_name),
        "CheckPageAccess": c.CheckPageAccessRequest(
            page=f"companies/{p}", subject=subjects["editor"], permission=page_pb2.PAGE_PERMISSION_EDIT
        ),
    }


CASES = [(rpc, caller) for rpc, table in EXPECTED.items() for caller in table]


def test_every_rpc_is_in_the_matrix() -> None:
    methods = company_pb2.DESCRIPTOR.services_by_name["CompanyService"].methods_by_name
    assert set(EXPECTED) == set(methods)


@pytest.mark.parametrize(("rpc", "caller"), CASES, ids=[f"{r}-{c}" for r, c in CASES])
def test_permission_matrix(world: World, rpc: str, caller: str) -> None:
    n = next(_counter)
    subjects = {name: f"kc-{name}-{n}" for name in CALLERS}
    request = _requests(world, subjects)[rpc]
    method: Callable[..., Any] = getattr(world.stub, rpc)
    try:
        method(request, metadata=world.metadata(caller, subjects), timeout=10)
        code = OK
    except grpc.RpcError as error:
        code = error.code()
    assert code == EXPECTED[rpc][caller]

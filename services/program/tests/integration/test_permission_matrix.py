"""Every RPC against every kind of caller, from one table: anonymous, realm roles (isv, program staff
without membership, platform admin, service), page roles on the program (owner, admin, editor,
viewer), the owner of ANOTHER program using this program's ids, and members of the applying company.
Each cell is the exact status code; a mutating call gets a fresh target so cells stay independent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import page_pb2
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.pages.roles import PageRole
from program_service.bootstrap import ProgramService

from ..company_double import CompanyDouble
from ..conftest import Metadata, TokenFactory, new_program
from ..world import CALLERS, COMPANY, World, build_world

OK = grpc.StatusCode.OK
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
NF = grpc.StatusCode.NOT_FOUND
PRECOND = grpc.StatusCode.FAILED_PRECONDITION

Call = Callable[[World, Metadata], Any]


def row(default: grpc.StatusCode, **cells: grpc.StatusCode) -> dict[str, grpc.StatusCode]:
    """Expected code per caller: `default`, except the named cells; anonymous is UNAUTHENTICATED
    unless named."""
    table = dict.fromkeys(CALLERS, default)
    table["anonymous"] = UNAUTH
    table.update(cells)
    return table


PROGRAM_EDITORS = {"staff": OK, "owner": OK, "admin": OK, "editor": OK}
MANAGERS = {"staff": OK, "owner": OK, "admin": OK}
PROGRAM_READERS = {"staff": OK, "owner": OK, "admin": OK, "editor": OK, "viewer": OK}
PROGRAM_ROLE_HOLDERS = {"stranger": OK, "staff": OK, "service": OK, "owner": OK, "admin": OK}
PROGRAM_ROLE_HOLDERS |= {"editor": OK, "viewer": OK, "other_owner": OK}


def _fresh_program(w: World, publish: bool = False) -> str:
    """A program of `owner` with the same admin/editor/viewer members as the world's."""
    name = w.create_program(publish=publish)
    for who, role in (("admin", PageRole.ADMIN), ("editor", PageRole.EDITOR), ("viewer", PageRole.VIEWER)):
        w.add_member(name, who, role)
    return name


def _fresh_viewer(w: World) -> str:
    """A new viewer member of the published program; returns its member name."""
    subject = w.unique("kc-target")
    name, token = w.invite(w.published, f"{subject}@example.com", page_pb2.PAGE_ROLE_VIEWER)
    auth = (("authorization", f"Bearer {w.token(subject)}"),)
    w.stub.AcceptInvitation(program_pb2.AcceptInvitationRequest(name=name, token=token), metadata=auth)
    return f"{w.published}/members/{subject}"


def _fresh_invitation(w: World, email: str = "") -> tuple[str, str]:
    email = email or f"{w.unique('guest')}@example.com"
    return w.invite(w.published, email, page_pb2.PAGE_ROLE_VIEWER)


def _fresh_application(w: World) -> str:
    company = w.unique("companies/c-fresh")
    w.company.grant(company, "kc-co_editor", PageRole.EDITOR)
    w.company.grant(company, "kc-co_viewer", PageRole.VIEWER)
    return w.apply(w.published, company)


P = program_pb2

MATRIX: dict[str, tuple[Call, dict[str, grpc.StatusCode]]] = {
    "CreateProgram": (
        lambda w, m: w.stub.CreateProgram(P.CreateProgramRequest(program=new_program()), metadata=m),
        row(DENIED, **PROGRAM_ROLE_HOLDERS),
    ),
    "GetProgram(draft)": (
        lambda w, m: w.stub.GetProgram(P.GetProgramRequest(name=w.draft), metadata=m),
        row(NF, anonymous=NF, staff=OK, service=OK, owner=OK, admin=OK, editor=OK, viewer=OK),
    ),
    "GetProgram(published)": (
        lambda w, m: w.stub.GetProgram(P.GetProgramRequest(name=w.published), metadata=m),
        row(OK, anonymous=OK),
    ),
    "ListPrograms(caller_is_member)": (
        lambda w, m: w.stub.ListPrograms(P.ListProgramsRequest(caller_is_member=True), metadata=m),
        row(OK),
    ),
    "UpdateProgram": (
        lambda w, m: w.stub.UpdateProgram(
            P.UpdateProgramRequest(
                program=P.Program(name=w.published, tagline="new"),
                update_mask=field_mask_pb2.FieldMask(paths=["tagline"]),
            ),
            metadata=m,
        ),
        row(DENIED, **PROGRAM_EDITORS),
    ),
    "DeleteProgram": (
        lambda w, m: w.stub.DeleteProgram(P.DeleteProgramRequest(name=_fresh_program(w)), metadata=m),
        row(DENIED, staff=OK, owner=OK),
    ),
    "BatchGetPrograms": (
        lambda w, m: w.stub.BatchGetPrograms(P.BatchGetProgramsRequest(names=[w.draft]), metadata=m),
        row(DENIED, service=OK),
    ),
    "PublishProgram": (
        lambda w, m: w.stub.PublishProgram(P.PublishProgramRequest(name=_fresh_program(w)), metadata=m),
        row(DENIED, **PROGRAM_EDITORS),
    ),
    "ArchiveProgram": (
        lambda w, m: w.stub.ArchiveProgram(P.ArchiveProgramRequest(name=_fresh_program(w)), metadata=m),
        row(DENIED, **PROGRAM_EDITORS),
    ),
    "ListMembers": (
        lambda w, m: w.stub.ListMembers(P.ListMembersRequest(parent=w.published), metadata=m),
        row(DENIED, **PROGRAM_READERS),
    ),
    "UpdateMember": (
        lambda w, m: w.stub.UpdateMember(
            P.UpdateMemberRequest(member=P.Member(name=_fresh_viewer(w), role=page_pb2.PAGE_ROLE_EDITOR)), metadata=m
        ),
        row(DENIED, **MANAGERS),
    ),
    "DeleteMember": (
        lambda w, m: w.stub.DeleteMember(P.DeleteMemberRequest(name=_fresh_viewer(w)), metadata=m),
        row(DENIED, **MANAGERS),
    ),
    "LeaveProgram": (
        lambda w, m: w.stub.LeaveProgram(P.LeaveProgramRequest(name=_fresh_program(w)), metadata=m),
        row(NF, owner=PRECOND, admin=OK, editor=OK, viewer=OK),
    ),
    "CreateInvitation": (
        lambda w, m: w.stub.CreateInvitation(
            P.CreateInvitationRequest(
                parent=w.published,
                invitation=P.Invitation(email=f"{w.unique('x')}@new.io", role=page_pb2.PAGE_ROLE_VIEWER),
            ),
            metadata=m,
        ),
        row(DENIED, **MANAGERS),
    ),
    "ListInvitations": (
        lambda w, m: w.stub.ListInvitations(P.ListInvitationsRequest(parent=w.published), metadata=m),
        row(DENIED, **MANAGERS),
    ),
    "AcceptInvitation": (
        lambda w, m: w.stub.AcceptInvitation(
            P.AcceptInvitationRequest(name=(inv := _fresh_invitation(w))[0], token=inv[1]), metadata=m
        ),
        row(DENIED),  # the invitation was sent to another address: PERMISSION_DENIED for everyone here
    ),
    "DeclineInvitation(no token)": (
        lambda w, m: w.stub.DeclineInvitation(P.DeclineInvitationRequest(name=_fresh_invitation(w)[0]), metadata=m),
        row(DENIED, anonymous=DENIED),
    ),
    "RevokeInvitation": (
        lambda w, m: w.stub.RevokeInvitation(P.RevokeInvitationRequest(name=_fresh_invitation(w)[0]), metadata=m),
        row(DENIED, **MANAGERS),
    ),
    "CheckPageAccess": (
        lambda w, m: w.stub.CheckPageAccess(
            P.CheckPageAccessRequest(page=w.published, subject="kc-owner", permission=page_pb2.PAGE_PERMISSION_EDIT),
            metadata=m,
        ),
        row(DENIED, service=OK),
    ),
    "CreateApplication": (
        lambda w, m: w.stub.CreateApplication(
            P.CreateApplicationRequest(
                parent=_fresh_program(w, publish=True), application=P.Application(company=COMPANY)
            ),
            metadata=m,
        ),
        row(DENIED, staff=OK, co_editor=OK),
    ),
    "GetApplication": (
        lambda w, m: w.stub.GetApplication(P.GetApplicationRequest(name=w.application), metadata=m),
        row(DENIED, service=OK, co_editor=OK, co_viewer=OK, **PROGRAM_READERS),
    ),
    "ListApplications(program)": (
        lambda w, m: w.stub.ListApplications(P.ListApplicationsRequest(parent=w.published), metadata=m),
        row(DENIED, **PROGRAM_READERS),
    ),
    "ListApplications(company)": (
        lambda w, m: w.stub.ListApplications(
            P.ListApplicationsRequest(parent="programs/-", company=COMPANY), metadata=m
        ),
        row(DENIED, staff=OK, service=OK, co_editor=OK, co_viewer=OK),
    ),
    "ApproveApplication": (
        lambda w, m: w.stub.ApproveApplication(P.ApproveApplicationRequest(name=_fresh_application(w)), metadata=m),
        row(DENIED, **MANAGERS),
    ),
    "RejectApplication": (
        lambda w, m: w.stub.RejectApplication(
            P.RejectApplicationRequest(name=_fresh_application(w), reason="not a fit"), metadata=m
        ),
        row(DENIED, **MANAGERS),
    ),
    "WithdrawApplication": (
        lambda w, m: w.stub.WithdrawApplication(P.WithdrawApplicationRequest(name=_fresh_application(w)), metadata=m),
        row(DENIED, staff=OK, co_editor=OK),
    ),
}


@pytest.fixture
def world(
    stub: program_pb2_grpc.ProgramServiceStub, service: ProgramService, company: CompanyDouble, token: TokenFactory
) -> World:
    return build_world(stub, service, company, token)


def test_every_rpc_of_the_service_is_in_the_matrix() -> None:
    rpcs = {name.partition("(")[0] for name in MATRIX}
    assert rpcs == set(program_pb2.DESCRIPTOR.services_by_name["ProgramService"].methods_by_name)


@pytest.mark.parametrize("rpc", sorted(MATRIX))
def test_permission_matrix(world: World, rpc: str) -> None:
    call, expected = MATRIX[rpc]
    got = {}
    for caller in CALLERS:
        try:
            call(world, world.caller(caller))
            got[caller] = OK
        except grpc.RpcError as error:
            got[caller] = error.code()
    assert got == expected

"""Every RPC against every kind of caller, from one table, without I/O: anonymous, realm roles (isv,
program staff without membership, platform admin, service), page roles on the program (owner,
admin, editor, viewer), the owner of ANOTHER program using this program's ids, and members of the
applying company. Each cell is the exact status code; a mutating call gets a fresh target so cells
stay independent.

A cell runs what the server runs: the RPC's access policy declared in the proto (the interceptor's
check, `policy.authorize`), then the use case on the in-memory unit of work.
`tests/integration/test_access.py` shows that the server enforces the same policies.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from devinsider.program.v1 import program_pb2
from devinsider_common import errors
from devinsider_common.auth.policy import policies_for_service
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.ports import DirectoryUser
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.testing.failures import failure_of
from program_service.bootstrap import SERVICE_NAME
from program_service.domain.program import ProgramContent
from program_service.domain.query import ProgramQuery

from ..world import CALLERS, COMPANY_ID, World, build_world, content

OK = grpc.StatusCode.OK
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
NF = grpc.StatusCode.NOT_FOUND
PRECOND = grpc.StatusCode.FAILED_PRECONDITION

Call = Callable[[World, Principal | None], object]
POLICIES = {path.rpartition("/")[2]: policy for path, policy in policies_for_service(SERVICE_NAME).items()}


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
    program_id = w.create_program(publish=publish)
    for who, role in (("admin", PageRole.ADMIN), ("editor", PageRole.EDITOR), ("viewer", PageRole.VIEWER)):
        w.add_member(program_id, who, role)
    return program_id


def _fresh_viewer(w: World) -> str:
    """A new viewer member of the published program; returns its member id."""
    name = w.unique("target")
    w.add_member(w.published_id, name, PageRole.VIEWER)
    return f"kc-{name}"


def _fresh_invitation(w: World) -> tuple[str, str]:
    return w.invite(w.published_id, f"{w.unique('guest')}@example.com", PageRole.VIEWER)


def _fresh_application(w: World) -> str:
    company_id = w.unique("c-fresh")
    w.companies.grant(f"companies/{company_id}", "kc-co_editor", PageRole.EDITOR)
    w.companies.grant(f"companies/{company_id}", "kc-co_viewer", PageRole.VIEWER)
    return w.apply(w.published_id, company_id).application.id


def _newcomer(w: World) -> str:
    """A user of the user service, by name, who is not a member yet."""
    name = w.unique("newcomer")
    w.directory.add(DirectoryUser(f"users/{name}", f"kc-{name}", name.title(), f"{name}@example.com"))
    return f"users/{name}"


def _user(p: Principal | None) -> Principal:
    """The caller as `grpc.requests.caller()` gives it to an authenticated RPC's use case."""
    if p is None:
        raise errors.Unauthenticated("a valid bearer token is required", reason="TOKEN_MISSING")
    return p


MATRIX: dict[str, tuple[Call, dict[str, grpc.StatusCode]]] = {
    "CreateProgram": (
        lambda w, p: w.app.programs.create(_user(p), content(), ""),
        row(DENIED, **PROGRAM_ROLE_HOLDERS),
    ),
    "GetProgram(draft)": (
        lambda w, p: w.app.programs.get(p, w.draft_id),
        row(NF, anonymous=NF, staff=OK, service=OK, owner=OK, admin=OK, editor=OK, viewer=OK),
    ),
    "GetProgram(published)": (lambda w, p: w.app.programs.get(p, w.published_id), row(OK, anonymous=OK)),
    "ListPrograms(caller_is_member)": (
        lambda w, p: w.app.programs.list_programs(p, 0, "", ProgramQuery(only_member_of=True)),
        row(OK),
    ),
    "ListPrograms(orphaned)": (
        lambda w, p: w.app.programs.list_programs(p, 0, "", ProgramQuery(orphaned=True)),
        row(DENIED, anonymous=DENIED, staff=OK, service=OK),
    ),
    "UpdateProgram": (
        lambda w, p: w.app.programs.update(
            _user(p), w.published_id, ProgramContent(tagline=w.unique("new")), frozenset({"tagline"})
        ),
        row(DENIED, **PROGRAM_EDITORS),
    ),
    "DeleteProgram": (
        lambda w, p: w.app.programs.delete(_user(p), _fresh_program(w)),
        row(DENIED, staff=OK, owner=OK),
    ),
    "BatchGetPrograms": (lambda w, p: w.app.programs.batch_get([w.draft_id]), row(DENIED, service=OK)),
    "PublishProgram": (
        lambda w, p: w.app.programs.publish(_user(p), _fresh_program(w)),
        row(DENIED, **PROGRAM_EDITORS),
    ),
    "ArchiveProgram": (
        lambda w, p: w.app.programs.archive(_user(p), _fresh_program(w)),
        row(DENIED, **PROGRAM_EDITORS),
    ),
    "ListMembers": (
        lambda w, p: w.app.members.list(_user(p), w.published_id, 0, "", None),
        row(DENIED, **PROGRAM_READERS),
    ),
    "UpdateMember": (
        lambda w, p: w.app.members.change_role(_user(p), w.published_id, _fresh_viewer(w), PageRole.EDITOR),
        row(DENIED, **MANAGERS),
    ),
    "DeleteMember": (
        lambda w, p: w.app.members.remove(_user(p), w.published_id, _fresh_viewer(w)),
        row(DENIED, **MANAGERS),
    ),
    "LeaveProgram": (
        lambda w, p: w.app.members.leave(_user(p), _fresh_program(w)),
        row(NF, owner=PRECOND, admin=OK, editor=OK, viewer=OK),
    ),
    # Platform staff give a program an owner (one more here: it has one), whatever the caller's page role.
    "AssignProgramOwner": (
        lambda w, p: w.app.owners.assign(_user(p), w.published_id, _newcomer(w)),
        row(DENIED, staff=OK, service=OK),
    ),
    "CreateInvitation": (
        lambda w, p: w.app.invitations.create(_user(p), w.published_id, f"{w.unique('x')}@new.io", PageRole.VIEWER, ""),
        row(DENIED, **MANAGERS),
    ),
    "ListInvitations": (
        lambda w, p: w.app.invitations.list(_user(p), w.published_id, 0, "", None),
        row(DENIED, **MANAGERS),
    ),
    "AcceptInvitation": (
        lambda w, p: w.app.invitations.accept(_user(p), w.published_id, *_fresh_invitation(w)),
        row(DENIED),  # the invitation was sent to another address: PERMISSION_DENIED for everyone here
    ),
    "DeclineInvitation(no token)": (
        lambda w, p: w.app.invitations.decline(p, w.published_id, _fresh_invitation(w)[0], ""),
        row(DENIED, anonymous=DENIED),
    ),
    "RevokeInvitation": (
        lambda w, p: w.app.invitations.revoke(_user(p), w.published_id, _fresh_invitation(w)[0]),
        row(DENIED, **MANAGERS),
    ),
    "CheckPageAccess": (
        lambda w, p: w.app.members.check_access(w.published_id, "kc-owner", PagePermission.EDIT),
        row(DENIED, service=OK),
    ),
    "CreateApplication": (
        lambda w, p: w.app.applications.create(_user(p), _fresh_program(w, publish=True), COMPANY_ID, "", ""),
        row(DENIED, staff=OK, co_editor=OK),
    ),
    "GetApplication": (
        lambda w, p: w.app.applications.get(_user(p), w.published_id, w.application_id),
        row(DENIED, service=OK, co_editor=OK, co_viewer=OK, **PROGRAM_READERS),
    ),
    "ListApplications(program)": (
        lambda w, p: w.app.applications.list_applications(_user(p), w.published_id, "", None, 0, ""),
        row(DENIED, **PROGRAM_READERS),
    ),
    "ListApplications(company)": (
        lambda w, p: w.app.applications.list_applications(_user(p), None, COMPANY_ID, None, 0, ""),
        row(DENIED, staff=OK, service=OK, co_editor=OK, co_viewer=OK),
    ),
    "ApproveApplication": (
        lambda w, p: w.app.applications.approve(_user(p), w.published_id, _fresh_application(w)),
        row(DENIED, **MANAGERS),
    ),
    "RejectApplication": (
        lambda w, p: w.app.applications.reject(_user(p), w.published_id, _fresh_application(w), "not a fit"),
        row(DENIED, **MANAGERS),
    ),
    "WithdrawApplication": (
        lambda w, p: w.app.applications.withdraw(_user(p), w.published_id, _fresh_application(w)),
        row(DENIED, staff=OK, co_editor=OK),
    ),
}


@pytest.fixture
def world() -> World:
    return build_world()


def test_every_rpc_of_the_service_is_in_the_matrix() -> None:
    rpcs = {name.partition("(")[0] for name in MATRIX}
    assert rpcs == set(program_pb2.DESCRIPTOR.services_by_name["ProgramService"].methods_by_name) == set(POLICIES)


@pytest.mark.parametrize("rpc", sorted(MATRIX))
def test_permission_matrix(world: World, rpc: str) -> None:
    call, expected = MATRIX[rpc]
    policy = POLICIES[rpc.partition("(")[0]]
    got = {}
    for name in CALLERS:
        caller = world.caller(name)
        try:
            policy.authorize(caller)
            call(world, caller)
            got[name] = OK
        except errors.DomainError as error:
            got[name] = failure_of(error).code
    assert got == expected

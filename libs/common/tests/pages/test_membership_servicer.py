"""The MembershipServicer mixin: listed first, its nine RPCs override the generated servicer's
UNIMPLEMENTED defaults of each page service, and each delegates to the shared `MembershipRpcs`."""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import grpc
import pytest

from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common import context
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.model import Member
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.servicer import MembershipRpcs, MembershipServicer
from devinsider_common.testing.failures import failure

SHARED_RPCS = {
    "ListMembers": "list_members",
    "UpdateMember": "update_member",
    "DeleteMember": "delete_member",
    "CreateInvitation": "create_invitation",
    "ListInvitations": "list_invitations",
    "AcceptInvitation": "accept_invitation",
    "DeclineInvitation": "decline_invitation",
    "RevokeInvitation": "revoke_invitation",
    "CheckPageAccess": "check_page_access",
}
PAGE_SERVICES = [
    (company_pb2, company_pb2_grpc.CompanyServiceServicer, "CompanyService"),
    (investor_pb2, investor_pb2_grpc.InvestorServiceServicer, "InvestorService"),
    (program_pb2, program_pb2_grpc.ProgramServiceServicer, "ProgramService"),
]


class RecordingRpcs:
    """Stands for MembershipRpcs: which method got which request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        def rpc(request: Any) -> str:
            self.calls.append((name, request))
            return f"answer of {name}"

        return rpc


def test_the_mixin_declares_exactly_the_shared_rpcs() -> None:
    declared = {name for name in vars(MembershipServicer) if name[:1].isupper()}
    assert declared == set(SHARED_RPCS)


@pytest.mark.parametrize(("messages", "generated", "service"), PAGE_SERVICES, ids=lambda v: getattr(v, "__name__", v))
def test_listed_first_the_mixin_overrides_the_generated_defaults_and_delegates(
    messages: ModuleType, generated: type, service: str
) -> None:
    rpcs = set(messages.DESCRIPTOR.services_by_name[service].methods_by_name)
    assert set(SHARED_RPCS) <= rpcs  # the same RPC names in every page service's proto

    class Servicer(MembershipServicer, generated):  # type: ignore[misc]
        def __init__(self, membership: Any) -> None:
            self._membership = membership

    recording = RecordingRpcs()
    servicer = Servicer(recording)
    for rpc, method in SHARED_RPCS.items():
        assert getattr(Servicer, rpc) is getattr(MembershipServicer, rpc), rpc  # not the UNIMPLEMENTED one
        request = object()
        assert getattr(servicer, rpc)(request, None) == f"answer of {method}"
        assert recording.calls[-1] == (method, request)

    class Backwards(generated, MembershipServicer):  # type: ignore[misc]
        pass

    assert vars(Backwards).get("ListMembers") is None
    assert getattr(Backwards, "ListMembers") is getattr(generated, "ListMembers")  # noqa: B009 - why the mixin comes first


class FakeMembers:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def list(self, principal: Principal, page_id: str, size: int, token: str, role: PageRole | None) -> Any:
        self.calls.append(("list", principal.subject, page_id, size, token, role))
        now = datetime(2026, 11, 25, tzinfo=UTC)
        return [Member(page_id, "kc-bob", PageRole.EDITOR, "users/u-bob", "Bob", "bob@acme.io", now, now)], "next"

    def check_access(self, page_id: str, subject: str, permission: PagePermission) -> Any:
        self.calls.append(("check", page_id, subject, permission))
        return True, PageRole.ADMIN


class FakeOwners:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def assign(self, principal: Principal, page_id: str, user: str) -> Member:
        self.calls.append((principal.subject, page_id, user))
        return Member(page_id, "kc-bob", PageRole.OWNER, user, "Bob", "bob@acme.io")


OWNERS = FakeOwners()


@pytest.fixture
def rpcs() -> tuple[MembershipRpcs, FakeMembers]:
    members = FakeMembers()
    titles = lambda ids: {i: f"title of {i}" for i in ids}  # noqa: E731
    OWNERS.calls.clear()
    rpcs = MembershipRpcs(company_pb2, "companies", members, None, OWNERS, titles, 42)  # type: ignore[arg-type]
    return rpcs, members


@pytest.fixture
def signed_in() -> Any:
    token = context.principal_var.set(Principal("kc-alice", frozenset({"isv"}), email="alice@acme.io"))
    yield
    context.principal_var.reset(token)


@pytest.mark.usefixtures("signed_in")
def test_list_members_reads_the_request_and_names_members_in_the_collection(
    rpcs: tuple[MembershipRpcs, FakeMembers],
) -> None:
    membership, members = rpcs
    request = company_pb2.ListMembersRequest(
        parent="companies/p1", page_size=5, page_token="t", role=page_pb2.PAGE_ROLE_EDITOR
    )
    response = membership.list_members(request)
    assert members.calls == [("list", "kc-alice", "p1", 5, "t", PageRole.EDITOR)]
    assert [(m.name, m.user, m.role) for m in response.members] == [
        ("companies/p1/members/u-bob", "users/u-bob", int(PageRole.EDITOR))
    ]
    assert response.next_page_token == "next"


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    "parent", ["investors/p1", "companies/", "companies/p1/members/x", "companies/a b", "companies/" + "x" * 65]
)
def test_a_parent_outside_the_collection_is_refused_before_the_use_case(
    rpcs: tuple[MembershipRpcs, FakeMembers], parent: str
) -> None:
    membership, members = rpcs
    refused = failure(lambda: membership.list_members(company_pb2.ListMembersRequest(parent=parent)))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["parent"])
    assert members.calls == []


@pytest.mark.usefixtures("signed_in")
def test_assign_owner_reads_the_page_and_the_user_and_answers_the_member(
    rpcs: tuple[MembershipRpcs, FakeMembers],
) -> None:
    membership, _ = rpcs
    owner = membership.assign_owner(company_pb2.AssignCompanyOwnerRequest(name="companies/p1", user="users/u-bob"))
    assert OWNERS.calls == [("kc-alice", "p1", "users/u-bob")]
    assert (owner.name, owner.user, owner.role) == ("companies/p1/members/u-bob", "users/u-bob", int(PageRole.OWNER))
    for name, user, field in (("investors/p1", "users/u-bob", "name"), ("companies/p1", "kc-bob", "user")):
        request = company_pb2.AssignCompanyOwnerRequest(name=name, user=user)
        refused = failure(lambda request=request: membership.assign_owner(request))  # type: ignore[misc]
        assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])
    assert len(OWNERS.calls) == 1


def test_check_page_access_names_every_bad_field_and_answers_with_the_cache_time(
    rpcs: tuple[MembershipRpcs, FakeMembers],
) -> None:
    membership, members = rpcs
    refused = failure(lambda: membership.check_page_access(company_pb2.CheckPageAccessRequest(page="nope")))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["subject", "permission", "page"])
    request = company_pb2.CheckPageAccessRequest(
        page="companies/p1", subject="kc-bob", permission=page_pb2.PAGE_PERMISSION_MANAGE_BILLING
    )
    answer = membership.check_page_access(request)
    assert (answer.allowed, answer.role, answer.cache_ttl_seconds) == (True, int(PageRole.ADMIN), 42)
    assert members.calls == [("check", "p1", "kc-bob", PagePermission.MANAGE_BILLING)]


def test_a_collection_that_is_not_a_page_is_refused() -> None:
    with pytest.raises(ValueError, match="not a page collection"):
        MembershipRpcs(company_pb2, "users", None, None, None, lambda ids: {}, 1)  # type: ignore[arg-type]

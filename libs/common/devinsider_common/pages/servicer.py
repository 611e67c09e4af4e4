"""The member, invitation, owner-assignment and access-check RPCs of a page service, written once.

The company, investor and program protos declare these RPCs with the same request and message
fields; a page service's servicer delegates each of them here, passing its own generated module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import grpc
from google.protobuf import empty_pb2

from devinsider_common import errors
from devinsider_common.context import current_principal
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, optional_enum, required_enum
from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.model import Invitation, InvitationState
from devinsider_common.pages.names import PageKind, parse_child, parse_id, parse_page
from devinsider_common.pages.orphans import PageOwners
from devinsider_common.pages.proto_mapping import invitation_to_proto, member_to_proto
from devinsider_common.pages.roles import PagePermission, PageRole

Titles = Callable[[list[str]], Mapping[str, str]]


class MembershipRpcs:
    def __init__(
        self,
        messages: ModuleType,
        collection: str,
        members: PageMembers,
        invitations: PageInvitations,
        owners: PageOwners,
        titles: Titles,
        access_ttl_seconds: int,
    ) -> None:
        self._pb = messages
        kind = PageKind.from_collection(collection)
        if kind is None:
            raise ValueError(f"{collection} is not a page collection")
        self._kinds = (kind,)
        self._collection = collection
        self._members = members
        self._invitations = invitations
        self._owners = owners
        self._titles = titles
        self._access_ttl = access_ttl_seconds

    def _page_id(self, name: str, path: str = "name") -> str:
        return parse_page(name, path, self._kinds).id

    def _child(self, name: str, child: str, path: str = "name") -> tuple[str, str]:
        page, child_id = parse_child(name, child, path, self._kinds)
        return page.id, child_id

    def _invitation(self, invitation: Invitation, titles: Mapping[str, str] | None = None) -> Any:
        titles = titles if titles is not None else self._titles([invitation.page_id])
        return invitation_to_proto(
            invitation, self._pb.Invitation, self._collection, titles.get(invitation.page_id, "")
        )

    def _member(self, member: Any) -> Any:
        return member_to_proto(member, self._pb.Member, self._collection)

    def list_members(self, request: Any) -> Any:
        page_id = self._page_id(request.parent, "parent")
        role = optional_enum(PageRole, request.role, "role")
        members, token = self._members.list(caller(), page_id, request.page_size, request.page_token, role)
        return self._pb.ListMembersResponse(members=[self._member(m) for m in members], next_page_token=token)

    def update_member(self, request: Any) -> Any:
        page_id, member_id = self._child(request.member.name, "members", "member.name")
        # The role is required whatever the mask says: checked first so a bare body names `member.role`.
        role = required_enum(PageRole, request.member.role, "member.role")
        resolve_update_mask(request.update_mask, request.member, ("role",), "member")
        return self._member(self._members.change_role(caller(), page_id, member_id, role))

    def delete_member(self, request: Any) -> empty_pb2.Empty:
        page_id, member_id = self._child(request.name, "members")
        self._members.remove(caller(), page_id, member_id)
        return empty_pb2.Empty()

    def leave(self, request: Any) -> empty_pb2.Empty:
        self._members.leave(caller(), self._page_id(request.name))
        return empty_pb2.Empty()

    def assign_owner(self, request: Any) -> Any:
        """`Assign<Page>Owner` (named after the page, so each servicer declares it and delegates here)."""
        page_id = self._page_id(request.name)
        user = parse_id(request.user, "users", "user")
        return self._member(self._owners.assign(caller(), page_id, f"users/{user}"))

    def create_invitation(self, request: Any) -> Any:
        page_id = self._page_id(request.parent, "parent")
        invitation = request.invitation
        role = required_enum(PageRole, invitation.role, "invitation.role")
        created = self._invitations.create(caller(), page_id, invitation.email, role, invitation.message)
        return self._invitation(created)

    def list_invitations(self, request: Any) -> Any:
        """A page's invitations, or with parent `<collection>/-` the caller's own."""
        mine = request.parent == f"{self._collection}/-"
        page_id = None if mine else self._page_id(request.parent, "parent")
        state = optional_enum(InvitationState, request.state, "state")
        found, token = self._invitations.list(caller(), page_id, request.page_size, request.page_token, state)
        titles = self._titles(sorted({i.page_id for i in found}))
        return self._pb.ListInvitationsResponse(
            invitations=[self._invitation(i, titles) for i in found], next_page_token=token
        )

    def accept_invitation(self, request: Any) -> Any:
        page_id, invitation_id = self._child(request.name, "invitations")
        if not request.token:
            raise errors.InvalidArgument.for_field("token", "is required")
        return self._invitation(self._invitations.accept(caller(), page_id, invitation_id, request.token))

    def decline_invitation(self, request: Any) -> Any:
        """With the mailed token, or as the signed-in invitee (the RPC is public for the mail link)."""
        page_id, invitation_id = self._child(request.name, "invitations")
        declined = self._invitations.decline(current_principal(), page_id, invitation_id, request.token)
        return self._invitation(declined)

    def revoke_invitation(self, request: Any) -> Any:
        page_id, invitation_id = self._child(request.name, "invitations")
        return self._invitation(self._invitations.revoke(caller(), page_id, invitation_id))

    def check_page_access(self, request: Any) -> Any:
        """The service-only answer other services cache: may `subject` do `permission` on the page?"""
        checks = errors.Violations()
        checks.check(bool(request.subject), "subject", "is required")
        checks.check(bool(request.permission), "permission", "is required")
        permission = optional_enum(PagePermission, request.permission, "permission", checks)
        page_id = ""
        try:
            page_id = self._page_id(request.page, "page")
        except errors.InvalidArgument as error:
            checks.items.extend(error.violations)
        checks.raise_if_any("invalid access check")
        assert permission is not None  # refused above when unspecified
        allowed, role = self._members.check_access(page_id, request.subject, permission)
        return self._pb.CheckPageAccessResponse(
            allowed=allowed, role=int(role or 0), cache_ttl_seconds=self._access_ttl
        )


class MembershipServicer:
    """Mixin of a page service's servicer: the nine member, invitation and access-check RPCs its
    proto shares with the other page services, delegated to `self._membership`. Listed first in the
    servicer's bases, so these override the generated servicer's UNIMPLEMENTED defaults; the
    `Leave<Page>` and `Assign<Page>Owner` RPCs, named after the page, stay in the service's servicer."""

    _membership: MembershipRpcs

    def ListMembers(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.list_members(request)

    def UpdateMember(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.update_member(request)

    def DeleteMember(self, request: Any, context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._membership.delete_member(request)

    def CreateInvitation(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.create_invitation(request)

    def ListInvitations(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.list_invitations(request)

    def AcceptInvitation(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.accept_invitation(request)

    def DeclineInvitation(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.decline_invitation(request)

    def RevokeInvitation(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.revoke_invitation(request)

    def CheckPageAccess(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._membership.check_page_access(request)

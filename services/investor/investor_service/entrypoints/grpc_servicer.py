"""InvestorService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

from collections.abc import Container

import grpc
from google.protobuf import empty_pb2

from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.context import current_principal
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.pages.model import Invitation, InvitationState
from devinsider_common.pages.proto_mapping import split_child_name
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.validation import resource_id
from investor_service.adapters import proto_mapping as mapping
from investor_service.domain.model import UPDATABLE_PATHS
from investor_service.domain.query import build_query
from investor_service.service_layer.app import InvestorApp

COLLECTION = mapping.COLLECTION
ALL_PAGES = f"{COLLECTION}/-"


def _caller() -> Principal:
    principal = current_principal()
    if principal is None:  # the access policy admits no anonymous caller here; never trust that blindly
        raise errors.Unauthenticated("a valid bearer token is required", reason="TOKEN_MISSING")
    return principal


def _page_id(name: str, path: str = "name") -> str:
    return resource_id(name, COLLECTION, path)


def _enum(value: int, known: Container[int], path: str, required: bool = False) -> None:
    if required and not value:
        raise errors.InvalidArgument.for_field(path, "is required")
    if value and value not in known:
        raise errors.InvalidArgument.for_field(path, f"unknown value {value}")


def _role(value: int, path: str, required: bool = True) -> PageRole | None:
    _enum(value, PageRole._value2member_map_, path, required)
    return PageRole(value) if value else None


class InvestorServicer(investor_pb2_grpc.InvestorServiceServicer):
    def __init__(self, app: InvestorApp, access_cache_ttl_seconds: int) -> None:
        self._app = app
        self._access_ttl = access_cache_ttl_seconds

    # Pages

    def CreateInvestor(
        self, request: investor_pb2.CreateInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        draft = mapping.profile_from_proto(request.investor)
        investor, view = self._app.investors.create(_caller(), draft, request.request_id.strip())
        return mapping.investor_to_proto(investor, view)

    def GetInvestor(
        self, request: investor_pb2.GetInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        investor, view = self._app.investors.get(current_principal(), _page_id(request.name))
        return mapping.investor_to_proto(investor, view)

    def ListInvestors(
        self, request: investor_pb2.ListInvestorsRequest, context: grpc.ServicerContext
    ) -> investor_pb2.ListInvestorsResponse:
        query = build_query(
            text=request.query,
            categories=list(request.categories),
            investor_types=list(request.investor_types),
            funding_stages=list(request.funding_stages),
            industries=list(request.industries),
            country_codes=list(request.country_codes),
            ticket_amount_minor=request.ticket_amount_minor,
            currency_code=request.currency_code,
            states=list(request.states),
            order_by=request.order_by,
        )
        found, token, total = self._app.investors.search(
            current_principal(), query, request.caller_is_member, request.page_size, request.page_token
        )
        return investor_pb2.ListInvestorsResponse(
            investors=[mapping.investor_to_proto(i, view) for i, view in found],
            next_page_token=token,
            total_size=total,
        )

    def UpdateInvestor(
        self, request: investor_pb2.UpdateInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        page_id = _page_id(request.investor.name, "investor.name")
        paths = resolve_update_mask(request.update_mask, UPDATABLE_PATHS, "investor")
        changes = mapping.profile_from_proto(request.investor)
        investor, view = self._app.investors.update(_caller(), page_id, changes, paths)
        return mapping.investor_to_proto(investor, view)

    def DeleteInvestor(
        self, request: investor_pb2.DeleteInvestorRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._app.investors.delete(_caller(), _page_id(request.name))
        return empty_pb2.Empty()

    def BatchGetInvestors(
        self, request: investor_pb2.BatchGetInvestorsRequest, context: grpc.ServicerContext
    ) -> investor_pb2.BatchGetInvestorsResponse:
        ids, checks = [], errors.Violations()
        for index, name in enumerate(request.names):
            try:
                ids.append(_page_id(name, f"names[{index}]"))
            except errors.InvalidArgument as error:
                checks.items.extend(error.violations)
        checks.raise_if_any("invalid names")
        found = self._app.investors.batch_get(ids)
        return investor_pb2.BatchGetInvestorsResponse(
            investors=[mapping.investor_to_proto(i, mapping.FULL) for i in found]
        )

    def CheckPageAccess(
        self, request: investor_pb2.CheckPageAccessRequest, context: grpc.ServicerContext
    ) -> investor_pb2.CheckPageAccessResponse:
        checks = errors.Violations()
        page = request.page[len(COLLECTION) + 1 :] if request.page.startswith(f"{COLLECTION}/") else ""
        checks.check(bool(page) and "/" not in page and len(page) <= 64, "page", "must look like `investors/{id}`")
        checks.check(bool(request.subject.strip()), "subject", "is required")
        known = request.permission in PagePermission._value2member_map_
        checks.check(known, "permission", "is required" if not request.permission else "unknown permission")
        checks.raise_if_any("invalid access check")
        allowed, role = self._app.members.check_access(page, request.subject, PagePermission(request.permission))
        return investor_pb2.CheckPageAccessResponse(
            allowed=allowed,
            role=int(role or 0),  # type: ignore[arg-type]
            cache_ttl_seconds=self._access_ttl,
        )

    # Members

    def ListMembers(
        self, request: investor_pb2.ListMembersRequest, context: grpc.ServicerContext
    ) -> investor_pb2.ListMembersResponse:
        page_id = _page_id(request.parent, "parent")
        role = _role(request.role, "role", required=False)
        members, token = self._app.members.list(_caller(), page_id, request.page_size, request.page_token, role)
        return investor_pb2.ListMembersResponse(
            members=[mapping.member_message(m) for m in members], next_page_token=token
        )

    def UpdateMember(
        self, request: investor_pb2.UpdateMemberRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Member:
        page_id, subject = split_child_name(request.member.name, COLLECTION, "members", "member.name")
        resolve_update_mask(request.update_mask, ("role",), "member")
        role = _role(request.member.role, "member.role")
        assert role is not None
        return mapping.member_message(self._app.members.change_role(_caller(), page_id, subject, role))

    def DeleteMember(self, request: investor_pb2.DeleteMemberRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        page_id, subject = split_child_name(request.name, COLLECTION, "members")
        self._app.members.remove(_caller(), page_id, subject)
        return empty_pb2.Empty()

    def LeaveInvestor(
        self, request: investor_pb2.LeaveInvestorRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._app.members.leave(_caller(), _page_id(request.name))
        return empty_pb2.Empty()

    # Invitations

    def CreateInvitation(
        self, request: investor_pb2.CreateInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        page_id = _page_id(request.parent, "parent")
        role = _role(request.invitation.role, "invitation.role")
        assert role is not None
        i = request.invitation
        invitation = self._app.invitations.create(_caller(), page_id, i.email, role, i.message)
        return self._with_title(invitation)

    def ListInvitations(
        self, request: investor_pb2.ListInvitationsRequest, context: grpc.ServicerContext
    ) -> investor_pb2.ListInvitationsResponse:
        page_id = None if request.parent == ALL_PAGES else _page_id(request.parent, "parent")
        _enum(request.state, InvitationState._value2member_map_, "state")
        state = InvitationState(request.state) if request.state else None
        found, token = self._app.invitations.list(_caller(), page_id, request.page_size, request.page_token, state)
        titles = self._app.investors.titles([i.page_id for i in found])
        return investor_pb2.ListInvitationsResponse(
            invitations=mapping.invitation_messages(found, titles), next_page_token=token
        )

    def AcceptInvitation(
        self, request: investor_pb2.AcceptInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        page_id, invitation_id = split_child_name(request.name, COLLECTION, "invitations")
        if not request.token:
            raise errors.InvalidArgument.for_field("token", "is required")
        return self._with_title(self._app.invitations.accept(_caller(), page_id, invitation_id, request.token))

    def DeclineInvitation(
        self, request: investor_pb2.DeclineInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        page_id, invitation_id = split_child_name(request.name, COLLECTION, "invitations")
        declined = self._app.invitations.decline(current_principal(), page_id, invitation_id, request.token)
        return self._with_title(declined)

    def RevokeInvitation(
        self, request: investor_pb2.RevokeInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        page_id, invitation_id = split_child_name(request.name, COLLECTION, "invitations")
        return self._with_title(self._app.invitations.revoke(_caller(), page_id, invitation_id))

    def _with_title(self, invitation: Invitation) -> investor_pb2.Invitation:
        titles = self._app.investors.titles([invitation.page_id])
        return mapping.invitation_message(invitation, titles.get(invitation.page_id, ""))

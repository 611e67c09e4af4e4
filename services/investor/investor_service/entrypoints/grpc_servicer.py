"""InvestorService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider_common import errors
from devinsider_common.context import current_principal
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, idempotency_key, repeated_enum
from devinsider_common.pages.names import PageKind, parse_page
from devinsider_common.pages.servicer import MembershipRpcs
from investor_service.adapters import proto_mapping as mapping
from investor_service.domain.enums import InvestorCategory, InvestorState, InvestorType
from investor_service.domain.model import UPDATABLE_PATHS
from investor_service.domain.query import build_query
from investor_service.service_layer.app import InvestorApp

COLLECTION = mapping.COLLECTION
ALL_PAGES = f"{COLLECTION}/-"
_INVESTOR = (PageKind.INVESTOR,)


class InvestorServicer(investor_pb2_grpc.InvestorServiceServicer):
    def __init__(self, app: InvestorApp, access_cache_ttl_seconds: int) -> None:
        self._app = app
        self._membership = MembershipRpcs(
            investor_pb2, COLLECTION, app.members, app.invitations, app.investors.titles, access_cache_ttl_seconds
        )

    # Pages

    def CreateInvestor(
        self, request: investor_pb2.CreateInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        draft = mapping.profile_from_proto(request.investor)
        investor, view = self._app.investors.create(caller(), draft, idempotency_key(request.request_id))
        return mapping.investor_to_proto(investor, view)

    def GetInvestor(
        self, request: investor_pb2.GetInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        investor, view = self._app.investors.get(current_principal(), parse_page(request.name, kinds=_INVESTOR).id)
        return mapping.investor_to_proto(investor, view)

    def ListInvestors(
        self, request: investor_pb2.ListInvestorsRequest, context: grpc.ServicerContext
    ) -> investor_pb2.ListInvestorsResponse:
        checks = errors.Violations()
        query = build_query(
            text=request.query,
            categories=repeated_enum(InvestorCategory, request.categories, "categories", checks),
            investor_types=repeated_enum(InvestorType, request.investor_types, "investor_types", checks),
            funding_stages=list(request.funding_stages),
            industries=list(request.industries),
            country_codes=list(request.country_codes),
            ticket_amount_minor=request.ticket_amount_minor,
            currency_code=request.currency_code,
            states=repeated_enum(InvestorState, request.states, "states", checks),
            order_by=request.order_by,
            checks=checks,
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
        page_id = parse_page(request.investor.name, "investor.name", _INVESTOR).id
        paths = resolve_update_mask(request.update_mask, request.investor, UPDATABLE_PATHS, "investor")
        changes = mapping.profile_from_proto(request.investor)
        investor, view = self._app.investors.update(caller(), page_id, changes, paths)
        return mapping.investor_to_proto(investor, view)

    def DeleteInvestor(
        self, request: investor_pb2.DeleteInvestorRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._app.investors.delete(caller(), parse_page(request.name, kinds=_INVESTOR).id)
        return empty_pb2.Empty()

    def BatchGetInvestors(
        self, request: investor_pb2.BatchGetInvestorsRequest, context: grpc.ServicerContext
    ) -> investor_pb2.BatchGetInvestorsResponse:
        ids, checks = [], errors.Violations()
        for index, name in enumerate(request.names):
            try:
                ids.append(parse_page(name, f"names[{index}]", _INVESTOR).id)
            except errors.InvalidArgument as error:
                checks.items.extend(error.violations)
        checks.raise_if_any("invalid names")
        found = self._app.investors.batch_get(ids)
        return investor_pb2.BatchGetInvestorsResponse(
            investors=[mapping.investor_to_proto(i, mapping.FULL) for i in found]
        )

    # Members

    # Invitations

    # Members, invitations and the access check: the shared page model's RPCs.
    def ListMembers(
        self, request: investor_pb2.ListMembersRequest, context: grpc.ServicerContext
    ) -> investor_pb2.ListMembersResponse:
        result: investor_pb2.ListMembersResponse = self._membership.list_members(request)
        return result

    def UpdateMember(
        self, request: investor_pb2.UpdateMemberRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Member:
        result: investor_pb2.Member = self._membership.update_member(request)
        return result

    def DeleteMember(self, request: investor_pb2.DeleteMemberRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        result: empty_pb2.Empty = self._membership.delete_member(request)
        return result

    def LeaveInvestor(
        self, request: investor_pb2.LeaveInvestorRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        result: empty_pb2.Empty = self._membership.leave(request)
        return result

    def CreateInvitation(
        self, request: investor_pb2.CreateInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        result: investor_pb2.Invitation = self._membership.create_invitation(request)
        return result

    def ListInvitations(
        self, request: investor_pb2.ListInvitationsRequest, context: grpc.ServicerContext
    ) -> investor_pb2.ListInvitationsResponse:
        result: investor_pb2.ListInvitationsResponse = self._membership.list_invitations(request)
        return result

    def AcceptInvitation(
        self, request: investor_pb2.AcceptInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        result: investor_pb2.Invitation = self._membership.accept_invitation(request)
        return result

    def DeclineInvitation(
        self, request: investor_pb2.DeclineInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        result: investor_pb2.Invitation = self._membership.decline_invitation(request)
        return result

    def RevokeInvitation(
        self, request: investor_pb2.RevokeInvitationRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Invitation:
        result: investor_pb2.Invitation = self._membership.revoke_invitation(request)
        return result

    def CheckPageAccess(
        self, request: investor_pb2.CheckPageAccessRequest, context: grpc.ServicerContext
    ) -> investor_pb2.CheckPageAccessResponse:
        result: investor_pb2.CheckPageAccessResponse = self._membership.check_page_access(request)
        return result

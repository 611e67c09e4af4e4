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
from devinsider_common.pages.servicer import MembershipRpcs, MembershipServicer
from investor_service.adapters import proto_mapping as mapping
from investor_service.domain.enums import InvestorCategory, InvestorState, InvestorType
from investor_service.domain.model import UPDATABLE_PATHS
from investor_service.domain.query import build_query
from investor_service.service_layer.app import InvestorApp

COLLECTION = mapping.COLLECTION
_INVESTOR = (PageKind.INVESTOR,)


class InvestorServicer(MembershipServicer, investor_pb2_grpc.InvestorServiceServicer):
    def __init__(self, app: InvestorApp, access_cache_ttl_seconds: int) -> None:
        self._app = app
        self._membership = MembershipRpcs(
            investor_pb2,
            COLLECTION,
            app.members,
            app.invitations,
            app.owners,
            app.investors.titles,
            access_cache_ttl_seconds,
        )

    # Pages

    def CreateInvestor(
        self, request: investor_pb2.CreateInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        draft = mapping.profile_from_proto(request.investor)
        created = self._app.investors.create(caller(), draft, idempotency_key(request.request_id))
        return mapping.investor_to_proto(created)

    def GetInvestor(
        self, request: investor_pb2.GetInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        seen = self._app.investors.get(current_principal(), parse_page(request.name, kinds=_INVESTOR).id)
        return mapping.investor_to_proto(seen)

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
            orphaned=request.orphaned,
            checks=checks,
        )
        found = self._app.investors.list_investors(
            current_principal(),
            query,
            request.caller_is_member,
            request.page_size,
            request.page_token,
            request.viewer_page.strip(),
        )
        return investor_pb2.ListInvestorsResponse(
            investors=[mapping.investor_to_proto(view) for view in found.investors],
            next_page_token=found.next_page_token,
            total_size=found.total_size,
        )

    def UpdateInvestor(
        self, request: investor_pb2.UpdateInvestorRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Investor:
        page_id = parse_page(request.investor.name, "investor.name", _INVESTOR).id
        paths = resolve_update_mask(request.update_mask, request.investor, UPDATABLE_PATHS, "investor")
        changes = mapping.profile_from_proto(request.investor)
        return mapping.investor_to_proto(self._app.investors.update(caller(), page_id, changes, paths))

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
        return investor_pb2.BatchGetInvestorsResponse(investors=[mapping.full_view(i) for i in found])

    # Members, invitations and the access check: the shared RPCs (MembershipServicer), but these two,
    # named after the page, which delegate to it.

    def LeaveInvestor(
        self, request: investor_pb2.LeaveInvestorRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return self._membership.leave(request)

    def AssignInvestorOwner(
        self, request: investor_pb2.AssignInvestorOwnerRequest, context: grpc.ServicerContext
    ) -> investor_pb2.Member:
        return self._membership.assign_owner(request)  # type: ignore[no-any-return]

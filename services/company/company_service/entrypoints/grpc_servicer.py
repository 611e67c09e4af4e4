"""CompanyService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.api import httpbody_pb2
from google.protobuf import empty_pb2

from company_service.adapters import proto_mapping as mapping
from company_service.domain.model import UPDATABLE_FIELDS, expand_paths
from company_service.entrypoints import requests as req
from company_service.service_layer.app import CompanyApp
from company_service.service_layer.companies import CompanyView
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.principal import Principal
from devinsider_common.context import current_principal
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, idempotency_key
from devinsider_common.pages.names import PageKind, parse_page, parse_singleton
from devinsider_common.pages.servicer import MembershipRpcs

COLLECTION = PageKind.COMPANY.collection
_COMPANY = (PageKind.COMPANY,)


class CompanyServicer(company_pb2_grpc.CompanyServiceServicer):
    def __init__(self, app: CompanyApp, logo_url: Callable[[str], str], access_ttl_seconds: int) -> None:
        self._app = app
        self._logo_url = logo_url
        self._membership = MembershipRpcs(
            company_pb2, COLLECTION, app.members, app.invitations, app.companies.titles, access_ttl_seconds
        )

    def _view(self, view: CompanyView) -> company_pb2.Company:
        url = self._logo_url(view.company.id)
        return mapping.company_to_proto(view.company, full=view.full, viewer_role=view.role, logo_url=url)

    def _full(self, view: CompanyView) -> company_pb2.Company:
        return self._view(CompanyView(view.company, True, view.role))

    # Pages
    def CreateCompany(
        self, request: company_pb2.CreateCompanyRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        principal = caller()
        content = mapping.content_from_proto(request.company)
        company = self._app.companies.create(
            principal, content, request.pre_listed, idempotency_key(request.request_id)
        )
        return self._app_view(principal, company.id)

    def _app_view(self, caller: Principal | None, company_id: str) -> company_pb2.Company:
        return self._view(self._app.companies.get(caller, company_id))

    def GetCompany(self, request: company_pb2.GetCompanyRequest, context: grpc.ServicerContext) -> company_pb2.Company:
        return self._app_view(current_principal(), parse_page(request.name, kinds=_COMPANY).id)

    def ListCompanies(
        self, request: company_pb2.ListCompaniesRequest, context: grpc.ServicerContext
    ) -> company_pb2.ListCompaniesResponse:
        query = req.directory_query(request)
        views, token, total = self._app.companies.search(
            current_principal(), query, request.caller_is_member, request.page_size, request.page_token
        )
        return company_pb2.ListCompaniesResponse(
            companies=[self._view(v) for v in views], next_page_token=token, total_size=total
        )

    def UpdateCompany(
        self, request: company_pb2.UpdateCompanyRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        company_id = parse_page(request.company.name, "company.name", _COMPANY).id
        paths = resolve_update_mask(request.update_mask, request.company, UPDATABLE_FIELDS, "company")
        content = mapping.content_from_proto(request.company)
        view = self._app.companies.update(caller(), company_id, content, expand_paths(paths))
        return self._view(view)

    def DeleteCompany(
        self, request: company_pb2.DeleteCompanyRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._app.companies.delete(caller(), parse_page(request.name, kinds=_COMPANY).id)
        return empty_pb2.Empty()

    def BatchGetCompanies(
        self, request: company_pb2.BatchGetCompaniesRequest, context: grpc.ServicerContext
    ) -> company_pb2.BatchGetCompaniesResponse:
        ids = [parse_page(name, f"names[{i}]", _COMPANY).id for i, name in enumerate(request.names)]
        found = self._app.companies.batch_get(ids)
        return company_pb2.BatchGetCompaniesResponse(companies=[self._view(CompanyView(c, True)) for c in found])

    # Logos
    def UploadCompanyLogo(
        self, request: company_pb2.UploadCompanyLogoRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        principal = caller()
        company_id = parse_page(request.name, kinds=_COMPANY).id
        self._app.logos.upload(principal, company_id, request.body.content_type, request.body.data)
        return self._app_view(principal, company_id)

    def GetCompanyLogo(
        self, request: company_pb2.GetCompanyLogoRequest, context: grpc.ServicerContext
    ) -> company_pb2.GetCompanyLogoResponse:
        content_type, data = self._app.logos.get(parse_singleton(request.name, "logo", kinds=_COMPANY).id)
        return company_pb2.GetCompanyLogoResponse(body=httpbody_pb2.HttpBody(content_type=content_type, data=data))

    # Claims
    def ClaimCompany(
        self, request: company_pb2.ClaimCompanyRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        principal = caller()
        company_id = parse_page(request.name, kinds=_COMPANY).id
        self._app.claims.claim(principal, company_id, request.message, request.evidence_url.strip())
        return self._app_view(principal, company_id)

    def ApproveCompanyClaim(
        self, request: company_pb2.ApproveCompanyClaimRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        company = self._app.claims.approve(parse_page(request.name, kinds=_COMPANY).id)
        return self._full(CompanyView(company, True))

    def RejectCompanyClaim(
        self, request: company_pb2.RejectCompanyClaimRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        company = self._app.claims.reject(parse_page(request.name, kinds=_COMPANY).id, request.reason)
        return self._full(CompanyView(company, True))

    # Members
    # Invitations
    # Service-only

    # Members, invitations and the access check: the shared page model's RPCs.
    def ListMembers(
        self, request: company_pb2.ListMembersRequest, context: grpc.ServicerContext
    ) -> company_pb2.ListMembersResponse:
        result: company_pb2.ListMembersResponse = self._membership.list_members(request)
        return result

    def UpdateMember(
        self, request: company_pb2.UpdateMemberRequest, context: grpc.ServicerContext
    ) -> company_pb2.Member:
        result: company_pb2.Member = self._membership.update_member(request)
        return result

    def DeleteMember(self, request: company_pb2.DeleteMemberRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        result: empty_pb2.Empty = self._membership.delete_member(request)
        return result

    def LeaveCompany(self, request: company_pb2.LeaveCompanyRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        result: empty_pb2.Empty = self._membership.leave(request)
        return result

    def CreateInvitation(
        self, request: company_pb2.CreateInvitationRequest, context: grpc.ServicerContext
    ) -> company_pb2.Invitation:
        result: company_pb2.Invitation = self._membership.create_invitation(request)
        return result

    def ListInvitations(
        self, request: company_pb2.ListInvitationsRequest, context: grpc.ServicerContext
    ) -> company_pb2.ListInvitationsResponse:
        result: company_pb2.ListInvitationsResponse = self._membership.list_invitations(request)
        return result

    def AcceptInvitation(
        self, request: company_pb2.AcceptInvitationRequest, context: grpc.ServicerContext
    ) -> company_pb2.Invitation:
        result: company_pb2.Invitation = self._membership.accept_invitation(request)
        return result

    def DeclineInvitation(
        self, request: company_pb2.DeclineInvitationRequest, context: grpc.ServicerContext
    ) -> company_pb2.Invitation:
        result: company_pb2.Invitation = self._membership.decline_invitation(request)
        return result

    def RevokeInvitation(
        self, request: company_pb2.RevokeInvitationRequest, context: grpc.ServicerContext
    ) -> company_pb2.Invitation:
        result: company_pb2.Invitation = self._membership.revoke_invitation(request)
        return result

    def CheckPageAccess(
        self, request: company_pb2.CheckPageAccessRequest, context: grpc.ServicerContext
    ) -> company_pb2.CheckPageAccessResponse:
        result: company_pb2.CheckPageAccessResponse = self._membership.check_page_access(request)
        return result

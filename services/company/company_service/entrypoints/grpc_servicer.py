"""CompanyService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.api import httpbody_pb2
from google.protobuf import empty_pb2

from company_service.adapters import proto_mapping as mapping
from company_service.domain.content import UPDATABLE_FIELDS, expand_paths
from company_service.domain.model import CompanyView
from company_service.entrypoints import requests as req
from company_service.service_layer.app import CompanyApp
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.context import current_principal
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, idempotency_key
from devinsider_common.pages.names import PageKind, parse_page, parse_singleton
from devinsider_common.pages.servicer import MembershipRpcs, MembershipServicer

COLLECTION = PageKind.COMPANY.collection
_COMPANY = (PageKind.COMPANY,)


class CompanyServicer(MembershipServicer, company_pb2_grpc.CompanyServiceServicer):
    """The company RPCs; the member, invitation and access-check ones come from MembershipServicer."""

    def __init__(self, app: CompanyApp, logo_url: Callable[[str], str], access_ttl_seconds: int) -> None:
        self._app = app
        self._logo_url = logo_url
        self._membership = MembershipRpcs(
            company_pb2,
            COLLECTION,
            app.members,
            app.invitations,
            app.owners,
            app.companies.titles,
            access_ttl_seconds,
        )

    def _view(self, view: CompanyView) -> company_pb2.Company:
        url = self._logo_url(view.company.id)
        return mapping.company_to_proto(view.company, full=view.full, viewer_role=view.role, logo_url=url)

    # Pages
    def CreateCompany(
        self, request: company_pb2.CreateCompanyRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        content = mapping.content_from_proto(request.company)
        view = self._app.companies.create(caller(), content, request.pre_listed, idempotency_key(request.request_id))
        return self._view(view)

    def GetCompany(self, request: company_pb2.GetCompanyRequest, context: grpc.ServicerContext) -> company_pb2.Company:
        return self._view(self._app.companies.get(current_principal(), parse_page(request.name, kinds=_COMPANY).id))

    def ListCompanies(
        self, request: company_pb2.ListCompaniesRequest, context: grpc.ServicerContext
    ) -> company_pb2.ListCompaniesResponse:
        query = req.directory_query(request)
        views, token, total = self._app.companies.list_companies(
            current_principal(),
            query,
            request.caller_is_member,
            request.page_size,
            request.page_token,
            request.viewer_page.strip(),
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
        company_id = parse_page(request.name, kinds=_COMPANY).id
        return self._view(self._app.logos.upload(caller(), company_id, request.body.content_type, request.body.data))

    def GetCompanyLogo(
        self, request: company_pb2.GetCompanyLogoRequest, context: grpc.ServicerContext
    ) -> company_pb2.GetCompanyLogoResponse:
        content_type, data = self._app.logos.get(parse_singleton(request.name, "logo", kinds=_COMPANY).id)
        return company_pb2.GetCompanyLogoResponse(body=httpbody_pb2.HttpBody(content_type=content_type, data=data))

    # Claims
    def ClaimCompany(
        self, request: company_pb2.ClaimCompanyRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        company_id = parse_page(request.name, kinds=_COMPANY).id
        return self._view(self._app.claims.claim(caller(), company_id, request.message, request.evidence_url.strip()))

    def ApproveCompanyClaim(
        self, request: company_pb2.ApproveCompanyClaimRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        company = self._app.claims.approve(parse_page(request.name, kinds=_COMPANY).id)
        return self._view(CompanyView(company, True))

    def RejectCompanyClaim(
        self, request: company_pb2.RejectCompanyClaimRequest, context: grpc.ServicerContext
    ) -> company_pb2.Company:
        company = self._app.claims.reject(parse_page(request.name, kinds=_COMPANY).id, request.reason)
        return self._view(CompanyView(company, True))

    # Members, invitations and the access check: MembershipServicer; leaving and assigning an owner
    # are named after the page, so they are declared here and delegate to it.
    def LeaveCompany(self, request: company_pb2.LeaveCompanyRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._membership.leave(request)

    def AssignCompanyOwner(
        self, request: company_pb2.AssignCompanyOwnerRequest, context: grpc.ServicerContext
    ) -> company_pb2.Member:
        return self._membership.assign_owner(request)  # type: ignore[no-any-return]

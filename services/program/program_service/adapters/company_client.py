"""The company service over gRPC: page access and display names, the `CompanyDirectory` port of
`service_layer/ports.py`."""

from __future__ import annotations

import grpc

from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.cache import Cache
from devinsider_common.pages.remote import RemotePageAccess
from devinsider_common.pages.roles import PagePermission, PageRole


class GrpcCompanyDirectory:
    """CompanyService over gRPC (the stub's channel carries this service's token), access cached."""

    def __init__(self, stub: company_pb2_grpc.CompanyServiceStub, cache: Cache, ttl_seconds: float) -> None:
        self._stub = stub
        self._access = RemotePageAccess(stub.CheckPageAccess, company_pb2.CheckPageAccessRequest, cache, ttl_seconds)

    def role(self, company: str, subject: str, permission: PagePermission) -> tuple[bool, PageRole | None]:
        return self._access.role(company, subject, permission)

    def require(self, company: str, subject: str, permission: PagePermission) -> PageRole:
        return self._access.require(company, subject, permission)

    def display_name(self, company: str) -> str:
        try:
            return self._stub.GetCompany(company_pb2.GetCompanyRequest(name=company)).display_name
        except grpc.RpcError:
            return ""

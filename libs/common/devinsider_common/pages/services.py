"""The company, investor and program services as one client, for the services that read their pages
(billing, matching): who may act on a page (CheckPageAccess, cached briefly) and the pages themselves
(BatchGet*, service-only), both retried on UNAVAILABLE since they only read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common import errors
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.remote import RemotePageAccess
from devinsider_common.pages.roles import PagePermission, PageRole


def _reads(service: str, batch_get: str) -> list[str]:
    return [f"/{service}/CheckPageAccess", f"/{service}/{batch_get}"]


@dataclass(frozen=True)
class PageServices:
    """Typed stubs of the three page services, one channel each."""

    company: company_pb2_grpc.CompanyServiceStub
    investor: investor_pb2_grpc.InvestorServiceStub
    program: program_pb2_grpc.ProgramServiceStub

    @classmethod
    def connect(cls, channels: ChannelFactory, targets: Mapping[PageKind, str]) -> PageServices:
        return cls(
            company=channels.stub(
                targets[PageKind.COMPANY],
                company_pb2_grpc.CompanyServiceStub,
                idempotent_methods=_reads("devinsider.company.v1.CompanyService", "BatchGetCompanies"),
            ),
            investor=channels.stub(
                targets[PageKind.INVESTOR],
                investor_pb2_grpc.InvestorServiceStub,
                idempotent_methods=_reads("devinsider.investor.v1.InvestorService", "BatchGetInvestors"),
            ),
            program=channels.stub(
                targets[PageKind.PROGRAM],
                program_pb2_grpc.ProgramServiceStub,
                idempotent_methods=_reads("devinsider.program.v1.ProgramService", "BatchGetPrograms"),
            ),
        )

    def batch_get(self, kind: PageKind, names: Sequence[str]) -> Sequence[Any]:
        """The pages of `kind` among `names` as their owner's messages (Company, Investor, Program);
        raises grpc.RpcError as the owner answers."""
        if kind is PageKind.COMPANY:
            return self.company.BatchGetCompanies(company_pb2.BatchGetCompaniesRequest(names=names)).companies
        if kind is PageKind.INVESTOR:
            return self.investor.BatchGetInvestors(investor_pb2.BatchGetInvestorsRequest(names=names)).investors
        return self.program.BatchGetPrograms(program_pb2.BatchGetProgramsRequest(names=names)).programs

    def access(self, cache: Cache, ttl_seconds: float) -> PagesAccess:
        return PagesAccess(
            {
                PageKind.COMPANY: RemotePageAccess(
                    self.company.CheckPageAccess, company_pb2.CheckPageAccessRequest, cache, ttl_seconds
                ),
                PageKind.INVESTOR: RemotePageAccess(
                    self.investor.CheckPageAccess, investor_pb2.CheckPageAccessRequest, cache, ttl_seconds
                ),
                PageKind.PROGRAM: RemotePageAccess(
                    self.program.CheckPageAccess, program_pb2.CheckPageAccessRequest, cache, ttl_seconds
                ),
            }
        )


class PagesAccess:
    """Who may act on a page, asked of the service that owns its kind."""

    def __init__(self, remotes: Mapping[PageKind, RemotePageAccess]) -> None:
        self._remotes = remotes

    def _remote(self, page: str) -> RemotePageAccess:
        kind = PageKind.of(page)
        if kind is None or kind not in self._remotes:
            raise errors.InvalidArgument(f"{page} is not a page")
        return self._remotes[kind]

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        return self._remote(page).require(page, subject, permission)

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        allowed, _ = self._remote(page).role(page, subject, permission)
        return allowed

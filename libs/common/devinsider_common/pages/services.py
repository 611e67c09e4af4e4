"""The company, investor and program services as one client, for the services that read their pages
(billing, matching; company and investor, about the pages that unlocked theirs): who may act on a page
(CheckPageAccess, cached briefly) and the pages themselves (BatchGet*, service-only), both retried on
UNAVAILABLE since they only read.
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


@dataclass(frozen=True)
class _Client:
    """How to reach one kind's page service: its stub, its CheckPageAccess request, its read methods."""

    stub: Any
    check_request: type[Any]
    service: str
    batch_get: str

    def stub_on(self, channels: ChannelFactory, target: str) -> Any:
        """A stub on `target` whose reads (retried on UNAVAILABLE) are CheckPageAccess and the batch get."""
        reads = [f"/{self.service}/CheckPageAccess", f"/{self.service}/{self.batch_get}"]
        return channels.stub(target, self.stub, idempotent_methods=reads)


_CLIENTS: Mapping[PageKind, _Client] = {
    PageKind.COMPANY: _Client(
        company_pb2_grpc.CompanyServiceStub,
        company_pb2.CheckPageAccessRequest,
        "devinsider.company.v1.CompanyService",
        "BatchGetCompanies",
    ),
    PageKind.INVESTOR: _Client(
        investor_pb2_grpc.InvestorServiceStub,
        investor_pb2.CheckPageAccessRequest,
        "devinsider.investor.v1.InvestorService",
        "BatchGetInvestors",
    ),
    PageKind.PROGRAM: _Client(
        program_pb2_grpc.ProgramServiceStub,
        program_pb2.CheckPageAccessRequest,
        "devinsider.program.v1.ProgramService",
        "BatchGetPrograms",
    ),
}


def _remote_access(kind: PageKind, stub: Any, cache: Cache, ttl_seconds: float) -> RemotePageAccess:
    return RemotePageAccess(stub.CheckPageAccess, _CLIENTS[kind].check_request, cache, ttl_seconds)


@dataclass(frozen=True)
class PageServices:
    """Typed stubs of the three page services, one channel each."""

    company: company_pb2_grpc.CompanyServiceStub
    investor: investor_pb2_grpc.InvestorServiceStub
    program: program_pb2_grpc.ProgramServiceStub

    @classmethod
    def connect(cls, channels: ChannelFactory, targets: Mapping[PageKind, str]) -> PageServices:
        return cls(
            company=_CLIENTS[PageKind.COMPANY].stub_on(channels, targets[PageKind.COMPANY]),
            investor=_CLIENTS[PageKind.INVESTOR].stub_on(channels, targets[PageKind.INVESTOR]),
            program=_CLIENTS[PageKind.PROGRAM].stub_on(channels, targets[PageKind.PROGRAM]),
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
        stubs = {PageKind.COMPANY: self.company, PageKind.INVESTOR: self.investor, PageKind.PROGRAM: self.program}
        return PagesAccess({kind: _remote_access(kind, stub, cache, ttl_seconds) for kind, stub in stubs.items()})


class PagesAccess:
    """Who may act on a page, asked of the service that owns its kind."""

    def __init__(self, remotes: Mapping[PageKind, RemotePageAccess]) -> None:
        self._remotes = remotes

    @classmethod
    def connect(
        cls, channels: ChannelFactory, targets: Mapping[PageKind, str], cache: Cache, ttl_seconds: float
    ) -> PagesAccess:
        """CheckPageAccess of the services in `targets` (kind -> gRPC target) only."""
        return cls(
            {
                kind: _remote_access(kind, _CLIENTS[kind].stub_on(channels, target), cache, ttl_seconds)
                for kind, target in targets.items()
            }
        )

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

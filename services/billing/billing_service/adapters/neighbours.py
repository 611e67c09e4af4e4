"""Clients of the other services: page permissions (company, investor and program services'
CheckPageAccess) and blocked pairs (the matching service's CheckBlocked), both service-only
RPCs called with billing's own service identity and cached briefly."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from billing_service.domain.pages import Page, PageKind
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.matching.v1 import matching_pb2, matching_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common import errors
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.remote import RemotePageAccess
from devinsider_common.pages.roles import PagePermission


class GrpcPageAccess:
    """PageAccess over the owning service of each kind of page."""

    def __init__(self, remotes: dict[PageKind, RemotePageAccess]) -> None:
        self._remotes = remotes

    def require(self, page: Page, subject: str, permission: PagePermission) -> None:
        self._remotes[page.kind].require(page.name, subject, permission)

    def allowed(self, page: Page, subject: str, permission: PagePermission) -> bool:
        allowed, _ = self._remotes[page.kind].role(page.name, subject, permission)
        return allowed


def page_access(channels: ChannelFactory, targets: dict[PageKind, str], cache: Cache, ttl: float) -> GrpcPageAccess:
    idempotent = {
        PageKind.COMPANY: "/devinsider.company.v1.CompanyService/CheckPageAccess",
        PageKind.INVESTOR: "/devinsider.investor.v1.InvestorService/CheckPageAccess",
        PageKind.PROGRAM: "/devinsider.program.v1.ProgramService/CheckPageAccess",
    }
    company = channels.stub(
        targets[PageKind.COMPANY],
        company_pb2_grpc.CompanyServiceStub,
        idempotent_methods=[idempotent[PageKind.COMPANY]],
    )
    investor = channels.stub(
        targets[PageKind.INVESTOR],
        investor_pb2_grpc.InvestorServiceStub,
        idempotent_methods=[idempotent[PageKind.INVESTOR]],
    )
    program = channels.stub(
        targets[PageKind.PROGRAM],
        program_pb2_grpc.ProgramServiceStub,
        idempotent_methods=[idempotent[PageKind.PROGRAM]],
    )
    return GrpcPageAccess(
        {
            PageKind.COMPANY: RemotePageAccess(company.CheckPageAccess, company_pb2.CheckPageAccessRequest, cache, ttl),
            PageKind.INVESTOR: RemotePageAccess(
                investor.CheckPageAccess, investor_pb2.CheckPageAccessRequest, cache, ttl
            ),
            PageKind.PROGRAM: RemotePageAccess(program.CheckPageAccess, program_pb2.CheckPageAccessRequest, cache, ttl),
        }
    )


class GrpcBlockList:
    """BlockList over the matching service's CheckBlocked; fails closed (UNAVAILABLE) when it is down."""

    def __init__(self, check: Callable[..., matching_pb2.CheckBlockedResponse], cache: Cache, ttl: float) -> None:
        self._check = check
        self._cache = cache
        self._ttl = ttl

    def is_blocked(self, a: Page, b: Page) -> bool:
        key = "|".join(sorted((a.name, b.name)))
        cached = self._cache.get("blocked", key)
        if cached is not None:
            return cached == b"1"
        try:
            answer = self._check(matching_pb2.CheckBlockedRequest(page_a=a.name, page_b=b.name))
        except grpc.RpcError as error:
            raise errors.Unavailable(
                f"cannot check blocks between {a.name} and {b.name}: {error.code().name}"
            ) from error
        ttl = min(self._ttl, answer.cache_ttl_seconds or self._ttl)
        self._cache.set("blocked", key, "1" if answer.blocked else "0", ttl)
        return bool(answer.blocked)


def block_list(channels: ChannelFactory, target: str, cache: Cache, ttl: float) -> GrpcBlockList:
    stub = channels.stub(
        target,
        matching_pb2_grpc.MatchingServiceStub,
        idempotent_methods=["/devinsider.matching.v1.MatchingService/CheckBlocked"],
    )
    return GrpcBlockList(stub.CheckBlocked, cache, ttl)

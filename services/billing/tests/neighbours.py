"""In-test doubles of billing's neighbours over real gRPC: the page services' CheckPageAccess and
BatchGet* and the matching service's CheckBlocked (only those RPCs), on one in-process server.

They answer from tables the tests fill, and, like the real services' access policy, refuse any
caller whose token is not a service token (so billing's service identity is exercised too). Every
page exists and is active unless a test says otherwise (`missing`, `states`).
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc

from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.matching.v1 import matching_pb2
from devinsider.program.v1 import program_pb2
from devinsider_common.auth.verifier import TokenVerifier
from devinsider_common.pages.roles import PagePermission, PageRole, allows

_PAGE_SERVICES: dict[str, Any] = {
    "devinsider.company.v1.CompanyService": company_pb2,
    "devinsider.investor.v1.InvestorService": investor_pb2,
    "devinsider.program.v1.ProgramService": program_pb2,
}
# Per page service: its BatchGet RPC, request and response field, message class and active state.
_BATCH_GETS: dict[str, tuple[str, Any, str, Any, int]] = {
    "devinsider.company.v1.CompanyService": (
        "BatchGetCompanies",
        company_pb2.BatchGetCompaniesRequest,
        "companies",
        company_pb2.Company,
        company_pb2.COMPANY_STATE_ACTIVE,
    ),
    "devinsider.investor.v1.InvestorService": (
        "BatchGetInvestors",
        investor_pb2.BatchGetInvestorsRequest,
        "investors",
        investor_pb2.Investor,
        investor_pb2.INVESTOR_STATE_ACTIVE,
    ),
    "devinsider.program.v1.ProgramService": (
        "BatchGetPrograms",
        program_pb2.BatchGetProgramsRequest,
        "programs",
        program_pb2.Program,
        program_pb2.PROGRAM_STATE_PUBLISHED,
    ),
}


class Neighbours:
    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier
        self.members: dict[tuple[str, str], PageRole] = {}  # (page name, subject) -> role
        self.blocked: set[frozenset[str]] = set()
        self.missing: set[str] = set()  # page names BatchGet* leaves out (unknown or deleted)
        self.unparsable: set[str] = set()  # page names BatchGet* refuses (INVALID_ARGUMENT)
        self.states: dict[str, int] = {}  # page name -> proto state, when not the active one
        self.calls: dict[str, int] = {"CheckPageAccess": 0, "CheckBlocked": 0, "BatchGet": 0}
        self.down = False
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
        for service, module in _PAGE_SERVICES.items():
            handler = grpc.unary_unary_rpc_method_handler(
                self._page_access_for(module),
                request_deserializer=module.CheckPageAccessRequest.FromString,
                response_serializer=module.CheckPageAccessResponse.SerializeToString,
            )
            method, request_class, field, message, active = _BATCH_GETS[service]
            batch_get = grpc.unary_unary_rpc_method_handler(
                self._batch_get_for(module, field, message, active),
                request_deserializer=request_class.FromString,
                response_serializer=getattr(module, f"{method}Response").SerializeToString,
            )
            self.server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(service, {"CheckPageAccess": handler, method: batch_get}),)
            )
        blocked = grpc.unary_unary_rpc_method_handler(
            self._check_blocked,
            request_deserializer=matching_pb2.CheckBlockedRequest.FromString,
            response_serializer=matching_pb2.CheckBlockedResponse.SerializeToString,
        )
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("devinsider.matching.v1.MatchingService", {"CheckBlocked": blocked}),)
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add_member(self, page: str, subject: str, role: PageRole = PageRole.OWNER) -> None:
        self.members[(page, subject)] = role

    def block(self, a: str, b: str) -> None:
        self.blocked.add(frozenset((a, b)))

    def _service_caller(self, context: grpc.ServicerContext) -> None:
        if self.down:
            context.abort(grpc.StatusCode.UNAVAILABLE, "down for the test")
        metadata = dict(context.invocation_metadata())
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ")
        try:
            principal = self._verifier.verify(token)
        except Exception:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "a service token is required")
        if not principal.is_service:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "service-only")

    def _page_access_for(self, module: Any) -> Any:
        def check(request: Any, context: grpc.ServicerContext) -> Any:
            self._service_caller(context)
            with self._lock:
                self.calls["CheckPageAccess"] += 1
            role = self.members.get((request.page, request.subject))
            allowed = allows(role, PagePermission(request.permission)) if request.permission else False
            return module.CheckPageAccessResponse(allowed=allowed, role=int(role) if role else 0, cache_ttl_seconds=5)

        return check

    def _batch_get_for(self, module: Any, field: str, message: Any, active: int) -> Any:
        response_class = getattr(module, f"BatchGet{field.title()}Response")

        def batch_get(request: Any, context: grpc.ServicerContext) -> Any:
            self._service_caller(context)
            with self._lock:
                self.calls["BatchGet"] += 1
            if self.unparsable.intersection(request.names):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a page name")
            found = [
                message(name=name, state=self.states.get(name, active))
                for name in request.names
                if name not in self.missing
            ]
            return response_class(**{field: found})

        return batch_get

    def _check_blocked(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._service_caller(context)
        with self._lock:
            self.calls["CheckBlocked"] += 1
        blocked = frozenset((request.page_a, request.page_b)) in self.blocked
        return matching_pb2.CheckBlockedResponse(blocked=blocked, cache_ttl_seconds=5)

    def stop(self) -> None:
        self.server.stop(0)

"""In-test doubles of the neighbour services a service asks over real gRPC, on one in-process server: the page
services' CheckPageAccess and BatchGet*, the matching service's CheckBlocked and the user service's
CheckUserAccess and GetUser (only those RPCs), plus any handler a test adds (billing's GetEntitlements...).

They answer from tables the tests fill and, like the real services' access policy, refuse any caller whose
token is not a service token, so the calling service's own identity is exercised too. Every page exists, named
after its id and in its active state, unless `missing` or `states` say otherwise; every subject is a user
(`users/{subject}`) the platform admits unless `refused`. `down` makes every RPC UNAVAILABLE.
`FakeBlockList` stands in for CheckBlocked in use-case tests, without gRPC.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.matching.v1 import matching_pb2
from devinsider.program.v1 import program_pb2
from devinsider.user.v1 import user_pb2
from devinsider_common import errors
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.verifier import TokenVerifier
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission, PageRole, allows
from devinsider_common.settings import AuthSettings
from devinsider_common.testing.services import TEST_ISSUER

# Per page service: its proto module, BatchGet RPC, response field, page message and active state.
_PAGE_SERVICES: dict[str, tuple[Any, str, str, Any, int]] = {
    "devinsider.company.v1.CompanyService": (
        company_pb2,
        "BatchGetCompanies",
        "companies",
        company_pb2.Company,
        company_pb2.COMPANY_STATE_ACTIVE,
    ),
    "devinsider.investor.v1.InvestorService": (
        investor_pb2,
        "BatchGetInvestors",
        "investors",
        investor_pb2.Investor,
        investor_pb2.INVESTOR_STATE_ACTIVE,
    ),
    "devinsider.program.v1.ProgramService": (
        program_pb2,
        "BatchGetPrograms",
        "programs",
        program_pb2.Program,
        program_pb2.PROGRAM_STATE_PUBLISHED,
    ),
}


def _unary(handler: Any, request: Any, response: Any) -> grpc.RpcMethodHandler[Any, Any]:
    return grpc.unary_unary_rpc_method_handler(
        handler, request_deserializer=request.FromString, response_serializer=response.SerializeToString
    )


class Neighbours:
    def __init__(self, verifier: TokenVerifier, handlers: Sequence[grpc.GenericRpcHandler] = ()) -> None:
        self._verifier = verifier
        self.members: dict[tuple[str, str], PageRole] = {}  # (page name, subject) -> role
        self.blocked: set[frozenset[str]] = set()
        self.missing: set[str] = set()  # page names BatchGet* leaves out (unknown or deleted)
        self.unparsable: set[str] = set()  # page names BatchGet* refuses (INVALID_ARGUMENT)
        self.states: dict[str, int] = {}  # page name -> proto state, when not the active one
        self.refused: dict[str, str] = {}  # subject -> CheckUserAccess reason
        self.calls: dict[str, int] = {"CheckPageAccess": 0, "CheckBlocked": 0, "BatchGet": 0, "GetUser": 0}
        self.down = False
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
        for service, (module, method, field, message, active) in _PAGE_SERVICES.items():
            rpcs = {
                "CheckPageAccess": _unary(
                    self._page_access_for(module), module.CheckPageAccessRequest, module.CheckPageAccessResponse
                ),
                method: _unary(
                    self._batch_get_for(getattr(module, f"{method}Response"), field, message, active),
                    getattr(module, f"{method}Request"),
                    getattr(module, f"{method}Response"),
                ),
            }
            self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, rpcs),))
        blocked = _unary(self._check_blocked, matching_pb2.CheckBlockedRequest, matching_pb2.CheckBlockedResponse)
        users = {
            "CheckUserAccess": _unary(
                self._check_user_access, user_pb2.CheckUserAccessRequest, user_pb2.CheckUserAccessResponse
            ),
            "GetUser": _unary(self._get_user, user_pb2.GetUserRequest, user_pb2.User),
        }
        self.server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "devinsider.matching.v1.MatchingService", {"CheckBlocked": blocked}
                ),
                grpc.method_handlers_generic_handler("devinsider.user.v1.UserService", users),
                *handlers,
            )
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

    def _count(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

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
            self._count("CheckPageAccess")
            role = self.members.get((request.page, request.subject))
            allowed = allows(role, PagePermission(request.permission)) if request.permission else False
            return module.CheckPageAccessResponse(allowed=allowed, role=int(role) if role else 0, cache_ttl_seconds=5)

        return check

    def _batch_get_for(self, response_class: Any, field: str, message: Any, active: int) -> Any:
        def batch_get(request: Any, context: grpc.ServicerContext) -> Any:
            self._service_caller(context)
            self._count("BatchGet")
            if self.unparsable.intersection(request.names):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a page name")
            found = [
                message(name=name, display_name=name.split("/")[1].title(), state=self.states.get(name, active))
                for name in request.names
                if name not in self.missing
            ]
            return response_class(**{field: found})

        return batch_get

    def _check_blocked(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._service_caller(context)
        self._count("CheckBlocked")
        blocked = frozenset((request.page_a, request.page_b)) in self.blocked
        return matching_pb2.CheckBlockedResponse(blocked=blocked, cache_ttl_seconds=5)

    def _check_user_access(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._service_caller(context)
        reason = self.refused.get(request.subject, "")
        return user_pb2.CheckUserAccessResponse(
            allowed=not reason, reason=reason, user=f"users/{request.subject}", cache_ttl_seconds=1
        )

    def _get_user(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._service_caller(context)
        self._count("GetUser")
        subject = request.name.removeprefix("users/")
        if not subject or subject.startswith("unknown"):
            context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} does not exist")
        return user_pb2.User(
            name=request.name,
            subject=subject,
            email=f"{subject}@example.com",
            given_name=subject.title(),
            family_name="Tester",
        )

    def stop(self) -> None:
        self.server.stop(0)


def start_neighbours(key_dir: Path, handlers: Sequence[grpc.GenericRpcHandler] = ()) -> Neighbours:
    """The doubles, accepting the service tokens of the dev keys in `key_dir` under TEST_ISSUER (base_settings')."""
    return Neighbours(JwtVerifier(AuthSettings(issuer=TEST_ISSUER, dev_key_dir=key_dir)), handlers)


class FakePageAccess:
    """The in-memory stand-in of the page services' CheckPageAccess for use-case tests (the `PageAccess` port of
    `pages.authorization`): members and their roles by (page name, subject)."""

    def __init__(self) -> None:
        self.members: dict[tuple[str, str], PageRole] = {}

    def add_member(self, page: PageName, subject: str, role: PageRole = PageRole.OWNER) -> None:
        self.members[(page.name, subject)] = role

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        return allows(self.members.get((page, subject)), permission)

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        role = self.members.get((page, subject))
        if role is None or not allows(role, permission):
            raise errors.PermissionDenied(
                f"this needs the {permission.name.lower()} permission on {page}", reason="PAGE_PERMISSION_DENIED"
            )
        return role


class FakeBlockList:
    """The in-memory stand-in of matching's CheckBlocked for use-case tests (the `BlockList` port of
    `pages.authorization`): a blocked pair is blocked in both directions."""

    def __init__(self) -> None:
        self.blocked: set[frozenset[str]] = set()

    def block(self, a: PageName, b: PageName) -> None:
        self.blocked.add(frozenset((a.name, b.name)))

    def is_blocked(self, a: PageName, b: PageName) -> bool:
        return frozenset((a.name, b.name)) in self.blocked

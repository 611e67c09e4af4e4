"""A minimal in-test CompanyService: CheckPageAccess (the only call the program service needs for
permissions) and GetCompany (display names), answering from a table the test fills in.

It records the roles of the token each call carried, so tests can check that the program
service presents its own service identity, not the user's token.
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc
import jwt

from devinsider.company.v1 import company_pb2
from devinsider_common.pages.roles import PagePermission, PageRole, allows

SERVICE = "devinsider.company.v1.CompanyService"


class CompanyDouble:
    def __init__(self) -> None:
        self.roles: dict[tuple[str, str], PageRole] = {}  # (companies/{id}, subject) -> role
        self.names: dict[str, str] = {}  # companies/{id} -> display name
        self.calls: list[tuple[str, frozenset[str]]] = []  # (method, roles of the caller's token)
        self.down = False
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
            "CheckPageAccess": grpc.unary_unary_rpc_method_handler(
                self._check,
                request_deserializer=company_pb2.CheckPageAccessRequest.FromString,
                response_serializer=company_pb2.CheckPageAccessResponse.SerializeToString,
            ),
            "GetCompany": grpc.unary_unary_rpc_method_handler(
                self._get,
                request_deserializer=company_pb2.GetCompanyRequest.FromString,
                response_serializer=company_pb2.Company.SerializeToString,
            ),
        }
        self._server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def grant(self, company: str, subject: str, role: PageRole) -> None:
        self.roles[(company, subject)] = role

    def stop(self) -> None:
        self._server.stop(0).wait()

    def _record(self, method: str, context: grpc.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata())
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ")
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False}) if token else {}
        with self._lock:
            self.calls.append((method, frozenset(claims.get("realm_access", {}).get("roles", []))))
        if self.down:
            context.abort(grpc.StatusCode.UNAVAILABLE, "company service down (test)")

    def _check(
        self, request: company_pb2.CheckPageAccessRequest, context: grpc.ServicerContext
    ) -> company_pb2.CheckPageAccessResponse:
        self._record("CheckPageAccess", context)
        role = self.roles.get((request.page, request.subject))
        return company_pb2.CheckPageAccessResponse(
            allowed=allows(role, PagePermission(request.permission)),
            role=int(role or 0),  # type: ignore[arg-type]
            cache_ttl_seconds=30,
        )

    def _get(self, request: company_pb2.GetCompanyRequest, context: grpc.ServicerContext) -> company_pb2.Company:
        self._record("GetCompany", context)
        if request.name not in self.names:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such company")
        return company_pb2.Company(name=request.name, display_name=self.names[request.name])

"""The company servicer called in-process on the in-memory app: the access policy the proto declares
for the RPC, then the servicer's method with the caller in the request context, as the shared
interceptor does around it. No server, no database: tables of RPCs and callers run in milliseconds.

What only a server shows (tokens, metadata, status details on the wire) is in tests/integration.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from company_service.bootstrap import SERVICE_NAME, logo_url_for
from company_service.entrypoints.grpc_servicer import CompanyServicer
from devinsider_common import context
from devinsider_common.auth.policy import policies_for_service
from devinsider_common.auth.principal import Principal

from .fakes import World

POLICIES = policies_for_service(SERVICE_NAME)


class Rpcs:
    """`rpcs.call("GetCompany", request, principal)`: the response, or the DomainError it raised."""

    def __init__(self, world: World) -> None:
        settings = world.settings
        self.servicer = CompanyServicer(world.app, logo_url_for(settings), settings.page_access_cache_ttl_seconds)

    def call(self, rpc: str, request: Message, principal: Principal | None = None) -> Any:
        policy = POLICIES[f"/{SERVICE_NAME}/{rpc}"]
        policy.authorize(principal)
        who = context.principal_var.set(principal)
        method = context.method_var.set(policy.method)
        try:
            return getattr(self.servicer, rpc)(request, None)
        finally:
            context.method_var.reset(method)
            context.principal_var.reset(who)

"""Billing's entitlements for tests: the in-memory source the use-case tests pass for the shared port
(`devinsider_common.entitlements.EntitlementsSource`), and a GetEntitlements handler for a fake billing server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import grpc

from devinsider.billing.v1 import billing_pb2
from devinsider_common.entitlements import Entitlements
from devinsider_common.pages.names import PageName


@dataclass
class FakeEntitlements:
    """Each page's entitlements (`pages`, by name; else `default`: no limit), and the pages asked, in order."""

    pages: dict[str, Entitlements] = field(default_factory=dict)
    default: Entitlements = field(default_factory=Entitlements)
    asked: list[str] = field(default_factory=list)

    def of(self, page: PageName) -> Entitlements:
        self.asked.append(page.name)
        return self.pages.get(page.name, self.default)

    def set(self, page: str, **values: Any) -> None:
        """Change some of `page`'s entitlements (`seats=3`...)."""
        self.pages[page] = replace(self.pages.get(page, self.default), **values)


def billing_handler(
    answer: Callable[[str], Entitlements], seen: list[tuple[str, str]] | None = None
) -> grpc.GenericRpcHandler:
    """Billing's GetEntitlements: `answer(page name)`; records (request name, authorization) in `seen`."""

    def get(request: billing_pb2.GetEntitlementsRequest, context: grpc.ServicerContext) -> billing_pb2.PageEntitlements:
        metadata = dict(context.invocation_metadata())
        if seen is not None:
            seen.append((request.name, str(metadata.get("authorization", ""))))
        stated = answer(request.name.removesuffix("/entitlements"))
        return billing_pb2.PageEntitlements(name=request.name, entitlements=billing_pb2.Entitlements(**asdict(stated)))

    method: grpc.RpcMethodHandler[Any, Any] = grpc.unary_unary_rpc_method_handler(
        get,
        request_deserializer=billing_pb2.GetEntitlementsRequest.FromString,
        response_serializer=lambda message: message.SerializeToString(),
    )
    return grpc.method_handlers_generic_handler("devinsider.billing.v1.BillingService", {"GetEntitlements": method})

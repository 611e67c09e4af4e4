"""Clients of the other services: page permissions (company, investor and program services'
CheckPageAccess, cached briefly), page states (their BatchGet*, never cached) and blocked pairs
(the matching service's CheckBlocked, cached briefly: the shared `devinsider_common.blocks`), all
service-only RPCs called with billing's own service identity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from billing_service.domain.unlocks import TargetState
from billing_service.settings import BillingSettings
from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.program.v1 import program_pb2
from devinsider_common import errors
from devinsider_common.blocks import GrpcBlockList as GrpcBlockList  # re-exported: billing names it
from devinsider_common.blocks import block_list
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.services import PagesAccess, PageServices

# Page states as unlocks see them; states left out (deleted, a program's draft seen by its members
# only) read as "does not exist".
COMPANY_STATES = {
    company_pb2.COMPANY_STATE_ACTIVE: TargetState.ACTIVE,
    company_pb2.COMPANY_STATE_PRE_LISTED: TargetState.ACTIVE,  # listed in the directory too
    company_pb2.COMPANY_STATE_CLAIM_PENDING: TargetState.INACTIVE,
}
INVESTOR_STATES = {investor_pb2.INVESTOR_STATE_ACTIVE: TargetState.ACTIVE}
PROGRAM_STATES = {
    program_pb2.PROGRAM_STATE_PUBLISHED: TargetState.ACTIVE,
    program_pb2.PROGRAM_STATE_ARCHIVED: TargetState.INACTIVE,
}
STATES: dict[PageKind, Mapping[Any, TargetState]] = {
    PageKind.COMPANY: COMPANY_STATES,
    PageKind.INVESTOR: INVESTOR_STATES,
    PageKind.PROGRAM: PROGRAM_STATES,
}


class GrpcPageStates:
    """PageStates over the owning services' service-only BatchGet* (one name a call, never cached:
    a page deleted a second ago must not be sold); fails closed (UNAVAILABLE) when one is down."""

    def __init__(self, pages: PageServices) -> None:
        self._pages = pages

    def state(self, page: PageName) -> TargetState | None:
        try:
            found = self._pages.batch_get(page.kind, [page.name])
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                return None  # a name its owner cannot even parse names no page
            raise errors.Unavailable(f"cannot check that {page.name} exists: {error.code().name}") from error
        states = STATES[page.kind]
        return next((states.get(message.state) for message in found), None)


def connect_neighbours(
    settings: BillingSettings, channels: ChannelFactory, cache: Cache
) -> tuple[PagesAccess, GrpcBlockList, GrpcPageStates]:
    """The page access, block list and page states of the services at the settings' targets."""
    targets = {
        PageKind.COMPANY: settings.company_target,
        PageKind.INVESTOR: settings.investor_target,
        PageKind.PROGRAM: settings.program_target,
    }
    pages = PageServices.connect(channels, targets)
    ttl = settings.remote_cache_ttl_seconds
    return (
        pages.access(cache, ttl),
        block_list(channels, settings.matching_target, cache, ttl),
        GrpcPageStates(pages),
    )

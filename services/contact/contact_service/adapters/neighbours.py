"""Clients of the other services, all service-only RPCs called with the contact service's own identity:
page permissions (the page services' CheckPageAccess, cached briefly: `PagesAccess`), the pages' display
names (their BatchGet*, never cached) and blocked pairs (matching's CheckBlocked, cached briefly: the
shared `devinsider_common.blocks`, billing's client)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import grpc

from contact_service.settings import ContactSettings
from devinsider_common import errors
from devinsider_common.blocks import GrpcBlockList, block_list
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.services import PagesAccess, PageServices


class GrpcPageDirectory:
    """PageDirectory over the owning services' BatchGet* (one call per kind of page asked about); fails
    closed (UNAVAILABLE) when one is down."""

    def __init__(self, pages: PageServices) -> None:
        self._pages = pages

    def display_names(self, pages: Sequence[PageName]) -> dict[PageName, str]:
        by_kind: dict[PageKind, list[PageName]] = defaultdict(list)
        for page in pages:
            by_kind[page.kind].append(page)
        names: dict[PageName, str] = {}
        for kind, asked in by_kind.items():
            wanted = {page.name: page for page in asked}
            try:
                found = self._pages.batch_get(kind, list(wanted))
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                    continue  # a name its owner cannot even parse names no page
                raise errors.Unavailable(f"cannot read the {kind.label} pages: {error.code().name}") from error
            names.update({wanted[item.name]: str(item.display_name) for item in found if item.name in wanted})
        return names


def page_targets(settings: ContactSettings) -> dict[PageKind, str]:
    return {
        PageKind.COMPANY: settings.company_target,
        PageKind.INVESTOR: settings.investor_target,
        PageKind.PROGRAM: settings.program_target,
    }


def connect_neighbours(
    settings: ContactSettings, channels: ChannelFactory, cache: Cache
) -> tuple[PagesAccess, GrpcBlockList, GrpcPageDirectory]:
    """The page access, block list and page directory of the services at the settings' targets."""
    pages = PageServices.connect(channels, page_targets(settings))
    ttl = settings.remote_cache_ttl_seconds
    return (
        pages.access(cache, ttl),
        block_list(channels, settings.matching_target, cache, ttl),
        GrpcPageDirectory(pages),
    )

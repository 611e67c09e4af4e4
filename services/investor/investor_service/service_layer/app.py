"""The investor service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.orphans import PageOwners
from investor_service.service_layer.investors import InvestorUseCases


@dataclass(frozen=True)
class InvestorApp:
    investors: InvestorUseCases
    members: PageMembers
    invitations: PageInvitations
    owners: PageOwners

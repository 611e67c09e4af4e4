"""The company service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from company_service.service_layer.claims import ClaimUseCases
from company_service.service_layer.companies import CompanyUseCases
from company_service.service_layer.logos import LogoUseCases
from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.orphans import PageOwners


@dataclass(frozen=True)
class CompanyApp:
    companies: CompanyUseCases
    claims: ClaimUseCases
    logos: LogoUseCases
    members: PageMembers
    invitations: PageInvitations
    owners: PageOwners

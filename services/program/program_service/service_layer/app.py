"""The program service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.orphans import PageOwners
from program_service.service_layer.applications import ApplicationUseCases
from program_service.service_layer.programs import ProgramUseCases


@dataclass(frozen=True)
class ProgramApp:
    programs: ProgramUseCases
    applications: ApplicationUseCases
    members: PageMembers
    invitations: PageInvitations
    owners: PageOwners

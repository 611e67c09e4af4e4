"""The authenticated caller of an RPC, as the handlers see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Realm role names as Keycloak spells them (`realm_access.roles`).
ROLE_ISV = "isv"
ROLE_INVESTOR = "investor"
ROLE_PROGRAM = "program"
ROLE_GUEST = "guest"
ROLE_ADMIN = "admin"
ROLE_SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, e-mail, names and realm roles."""

    subject: str
    roles: frozenset[str] = frozenset()
    email: str = ""
    given_name: str = ""
    family_name: str = ""
    email_verified: bool = False
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_admin(self) -> bool:
        return ROLE_ADMIN in self.roles

    @property
    def is_service(self) -> bool:
        return ROLE_SERVICE in self.roles

    @property
    def is_staff_or_service(self) -> bool:
        return self.is_admin or self.is_service

"""Access policies declared on each RPC with the `devinsider.common.v1.access` method option."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pool

from devinsider.common.v1 import access_pb2
from devinsider_common import errors
from devinsider_common.auth.principal import Principal

_ROLE_NAMES = {
    access_pb2.ROLE_ISV: "isv",
    access_pb2.ROLE_INVESTOR: "investor",
    access_pb2.ROLE_PROGRAM: "program",
    access_pb2.ROLE_GUEST: "guest",
    access_pb2.ROLE_ADMIN: "admin",
    access_pb2.ROLE_SERVICE: "service",
}


@dataclass(frozen=True)
class MethodPolicy:
    """The policy of one RPC, read once from its descriptor."""

    method: str
    audience: int
    roles: frozenset[str]

    @property
    def is_public(self) -> bool:
        return self.audience == access_pb2.AUDIENCE_PUBLIC

    def authorize(self, principal: Principal | None) -> None:
        """Raises Unauthenticated / PermissionDenied when the caller may not call the RPC."""
        if self.audience == access_pb2.AUDIENCE_UNSPECIFIED:
            raise errors.PermissionDenied(f"{self.method} declares no access policy", reason="NO_POLICY")
        if self.is_public:
            return
        if principal is None:
            raise errors.Unauthenticated("a valid bearer token is required", reason="TOKEN_MISSING")
        if self.audience == access_pb2.AUDIENCE_SERVICE and not principal.is_service:
            raise errors.PermissionDenied(f"{self.method} is for internal services only", reason="SERVICE_ONLY")
        if self.audience == access_pb2.AUDIENCE_ROLES and not principal.has_role(*self.roles):
            wanted = ", ".join(sorted(self.roles))
            raise errors.PermissionDenied(f"{self.method} needs one of the roles: {wanted}", reason="ROLE_MISSING")


def policy_of(method: _descriptor.MethodDescriptor) -> MethodPolicy:
    options = method.GetOptions()
    policy = options.Extensions[access_pb2.access]
    roles = frozenset(_ROLE_NAMES[r] for r in policy.roles if r in _ROLE_NAMES)
    return MethodPolicy(
        method=f"/{method.containing_service.full_name}/{method.name}", audience=policy.audience, roles=roles
    )


def policies_for_service(full_name: str) -> dict[str, MethodPolicy]:
    """Policies of every RPC of a service, keyed by the gRPC method path `/pkg.Service/Method`."""
    service = descriptor_pool.Default().FindServiceByName(full_name)
    return {f"/{full_name}/{m.name}": policy_of(m) for m in service.methods}

"""Who may call each RPC at all, enforced by the server before any use case runs (the access
policies the proto declares): anonymous callers, an ISV without the program role, a program
user, platform staff and a service. What each caller may then do on a given program is the
use cases' matrix (`tests/unit/test_permission_matrix.py`)."""

from __future__ import annotations

import grpc

from devinsider.program.v1 import program_pb2
from devinsider_common.testing.failures import failure_of
from devinsider_common.testing.tokens import CallerFactory
from program_service.bootstrap import SERVICE_NAME, ProgramService

PUBLIC = {"GetProgram", "ListPrograms", "DeclineInvitation"}
SERVICE_ONLY = {"BatchGetPrograms", "CheckPageAccess"}
PROGRAM_ROLES = {"CreateProgram"}  # the program role, staff or a service
STAFF_ONLY = {"AssignProgramOwner"}  # platform staff or a service
CALLERS = {"anonymous": None, "isv": ("isv",), "program": ("program",), "staff": ("admin",), "service": ("service",)}
POLICY_REASONS = {"TOKEN_MISSING", "SERVICE_ONLY", "ROLE_MISSING"}


def expected_refusal(rpc: str, caller: str) -> str:
    """The reason the server refuses `caller` for `rpc` before the use case, or "" when it lets it in."""
    if rpc in PUBLIC:
        return ""
    if caller == "anonymous":
        return "TOKEN_MISSING"
    if rpc in SERVICE_ONLY and caller != "service":
        return "SERVICE_ONLY"
    if rpc in PROGRAM_ROLES and caller == "isv":
        return "ROLE_MISSING"
    if rpc in STAFF_ONLY and caller not in ("staff", "service"):
        return "ROLE_MISSING"
    return ""


def test_every_rpc_lets_in_only_its_audience(service: ProgramService, callers: CallerFactory) -> None:
    methods = program_pb2.DESCRIPTOR.services_by_name["ProgramService"].methods
    metadata = {name: callers(f"kc-{name}", roles).metadata if roles else () for name, roles in CALLERS.items()}
    got, expected = {}, {}
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        for method in methods:
            request_class = getattr(program_pb2, method.input_type.name)
            response_class = getattr(program_pb2, method.output_type.name, None)
            call = channel.unary_unary(
                f"/{SERVICE_NAME}/{method.name}",
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString if response_class else None,
            )
            for caller in CALLERS:
                expected[(method.name, caller)] = expected_refusal(method.name, caller)
                try:  # an empty request: past the policy, the servicer or the use case answers
                    call(request_class(), metadata=metadata[caller], timeout=10)
                    got[(method.name, caller)] = ""
                except grpc.RpcError as error:
                    reason = failure_of(error).reason
                    got[(method.name, caller)] = reason if reason in POLICY_REASONS else ""
    assert {m.name for m in methods} > PUBLIC | SERVICE_ONLY | PROGRAM_ROLES | STAFF_ONLY
    assert got == expected

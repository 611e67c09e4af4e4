"""The access option of every RPC, as the server enforces it before any use case: who must be signed
in, which realm roles may create a page, which RPCs are for services only.

Requests are empty: a call the server lets through reaches its use case and is refused there (or
lists nothing), so nothing is written. Page roles (owner, admin, editor, viewer, strangers) are the
use cases' rule: tests/unit/test_membership.py holds their matrix.
"""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from devinsider.investor.v1 import investor_pb2
from devinsider.investor.v1.investor_pb2_grpc import InvestorServiceStub
from devinsider_common.testing.failures import failure_of
from devinsider_common.testing.tokens import CallerFactory

CALLERS = ("anonymous", "isv", "guest", "investor", "staff", "service")
ROLES = {"isv": ("isv",), "guest": ("guest",), "investor": ("investor",), "staff": ("admin",), "service": ("service",)}
REFUSALS = {"TOKEN_MISSING", "ROLE_MISSING", "SERVICE_ONLY"}  # the access policy's reasons

# Passed ("") or the reason the server refused, per caller in the order of CALLERS.
PUBLIC = ("", "", "", "", "", "")
SIGNED_IN = ("TOKEN_MISSING", "", "", "", "", "")
PAGE_CREATORS = ("TOKEN_MISSING", "ROLE_MISSING", "ROLE_MISSING", "", "", "")
SERVICES = ("TOKEN_MISSING", "SERVICE_ONLY", "SERVICE_ONLY", "SERVICE_ONLY", "SERVICE_ONLY", "")
STAFF = ("TOKEN_MISSING", "ROLE_MISSING", "ROLE_MISSING", "ROLE_MISSING", "", "")
ACCESS = {
    "GetInvestor": PUBLIC,
    "ListInvestors": PUBLIC,
    "DeclineInvitation": PUBLIC,  # the mail's link works without an account
    "CreateInvestor": PAGE_CREATORS,
    "UpdateInvestor": SIGNED_IN,
    "DeleteInvestor": SIGNED_IN,
    "ListMembers": SIGNED_IN,
    "UpdateMember": SIGNED_IN,
    "DeleteMember": SIGNED_IN,
    "LeaveInvestor": SIGNED_IN,
    "AssignInvestorOwner": STAFF,  # platform staff (and services) give an orphaned page an owner
    "CreateInvitation": SIGNED_IN,
    "ListInvitations": SIGNED_IN,
    "AcceptInvitation": SIGNED_IN,
    "RevokeInvitation": SIGNED_IN,
    "BatchGetInvestors": SERVICES,
    "CheckPageAccess": SERVICES,
}


def test_every_rpc_is_guarded_by_its_access_option(stub: InvestorServiceStub, callers: CallerFactory) -> None:
    methods = investor_pb2.DESCRIPTOR.services_by_name["InvestorService"].methods
    assert set(ACCESS) == {m.name for m in methods}
    metadata = {c: callers(f"kc-{c}", ROLES[c]).metadata if c in ROLES else () for c in CALLERS}
    wrong: list[str] = []
    for method in methods:
        request: Message = getattr(investor_pb2, method.input_type.name)()
        for caller, expected in zip(CALLERS, ACCESS[method.name], strict=True):
            try:
                getattr(stub, method.name)(request, metadata=metadata[caller])
                verdict = ""
            except grpc.RpcError as error:  # refused by the access policy, or by the use case
                reason = failure_of(error).reason
                verdict = reason if reason in REFUSALS else ""
            if verdict != expected:
                wrong.append(f"{method.name} by {caller}: {verdict or 'passed'}, expected {expected or 'passed'}")
    assert not wrong, "; ".join(wrong)

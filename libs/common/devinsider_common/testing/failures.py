"""One way for every test to read a refusal, whether a use case raised it or an RPC returned it.

`failure(call)` runs `call`, expects it to fail, and gives the same `Failure(code, reason, fields)`
for a `DomainError` raised by a use case (tested without I/O) and for the `grpc.RpcError` a client
receives (tested through a server), so a rule's expectation reads alike at both levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from devinsider_common import errors
from devinsider_common.grpc.status import error_info, field_violations, from_rpc_error, status_code_for


@dataclass(frozen=True)
class Failure:
    code: grpc.StatusCode
    reason: str  # ErrorInfo.reason
    fields: list[str] = field(default_factory=list)  # the paths of the field violations, in order
    message: str = field(default="", compare=False)


_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def failure_of(error: BaseException) -> Failure:
    """The Failure of a raised DomainError or a failed call (which must carry a google.rpc.Status)."""
    if isinstance(error, errors.DomainError):
        fields = [v.field for v in error.violations] if isinstance(error, errors.InvalidArgument) else []
        return Failure(_BY_NUMBER[status_code_for(error)], error.reason, fields, str(error))
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        status = from_rpc_error(error)
        if status is None:  # a transport failure (UNAVAILABLE, DEADLINE_EXCEEDED) has no details
            return Failure(error.code(), "", [], error.details() or "")
        info = error_info(status)
        return Failure(
            error.code(), info.reason if info else "", [v.field for v in field_violations(status)], status.message
        )
    raise AssertionError(f"not a refusal: {error!r}") from error


def failure(call: Callable[[], object]) -> Failure:
    """Run `call`; it must be refused (a DomainError or an RpcError): how."""
    try:
        call()
    except (errors.DomainError, grpc.RpcError) as error:
        return failure_of(error)
    raise AssertionError("the call succeeded; a refusal was expected")

"""Domain exceptions -> gRPC status with google.rpc.Status details (ErrorInfo, BadRequest, RetryInfo,
QuotaFailure)."""

from __future__ import annotations

from datetime import timedelta

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from devinsider_common import errors

ERROR_DOMAIN = "devinsider.io"

_CODES: list[tuple[type[errors.DomainError], int]] = [
    (errors.InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (errors.NotFound, code_pb2.NOT_FOUND),
    (errors.AlreadyExists, code_pb2.ALREADY_EXISTS),
    (errors.FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (errors.Conflict, code_pb2.ABORTED),
    (errors.Unauthenticated, code_pb2.UNAUTHENTICATED),
    (errors.PermissionDenied, code_pb2.PERMISSION_DENIED),
    (errors.ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
    (errors.Unavailable, code_pb2.UNAVAILABLE),
]


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def status_code_for(error: errors.DomainError) -> int:
    for error_type, code in _CODES:
        if isinstance(error, error_type):
            return int(code)
    return int(code_pb2.FAILED_PRECONDITION)


def to_status_proto(error: errors.DomainError, service: str) -> status_pb2.Status:
    """The google.rpc.Status of a domain error: message, ErrorInfo and field violations."""
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=f"{service}.{ERROR_DOMAIN}", metadata=error.metadata)
    details = [_pack(info)]
    if isinstance(error, errors.InvalidArgument) and error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in error.violations
            ]
        )
        details.append(_pack(bad_request))
    if isinstance(error, errors.ResourceExhausted) and error.retry_after_seconds is not None:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromTimedelta(timedelta(seconds=max(0.0, error.retry_after_seconds)))
        details.append(_pack(retry))
    if isinstance(error, errors.ResourceExhausted) and error.quota_violations:
        quota = error_details_pb2.QuotaFailure(
            violations=[
                error_details_pb2.QuotaFailure.Violation(subject=v.subject, description=v.description)
                for v in error.quota_violations
            ]
        )
        details.append(_pack(quota))
    return status_pb2.Status(code=status_code_for(error), message=error.message, details=details)


def internal_status(request_id: str) -> status_pb2.Status:
    """What a client sees of an unexpected failure: no stack trace, a request id to quote."""
    info = error_details_pb2.ErrorInfo(reason="INTERNAL", domain=ERROR_DOMAIN, metadata={"request_id": request_id})
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (request id {request_id})",
        details=[_pack(info)],
    )


def to_grpc_status(status: status_pb2.Status) -> grpc.Status:
    converted: grpc.Status = rpc_status.to_status(status)
    return converted


def from_rpc_error(error: grpc.RpcError) -> status_pb2.Status | None:
    """The rich status a server attached to a failed call, if any (for clients and tests)."""
    status: status_pb2.Status | None = rpc_status.from_call(error)
    return status


def error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo | None:
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):  # False when the detail is of another type
            return info
    return None


def field_violations(status: status_pb2.Status) -> list[error_details_pb2.BadRequest.FieldViolation]:
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            return list(bad_request.field_violations)
    return []

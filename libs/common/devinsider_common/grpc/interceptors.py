"""The one server interceptor every service runs: request id, logging, auth, policy, errors.

For each call it: takes or makes the `x-request-id`; verifies the bearer token (when sent);
enforces the RPC's declared access policy and the platform access guard; exposes principal,
token, request id and deadline as context variables; refuses string fields holding a NUL character
(INVALID_ARGUMENT: PostgreSQL text cannot store one) and requests that are not valid protobuf, such
as text that is not UTF-8 (INVALID_ARGUMENT, where grpcio itself would answer INTERNAL); maps
domain errors to rich statuses and anything unexpected to INTERNAL without a stack trace; logs one
line per call and counts it, with its duration, in the process's Prometheus metrics
(`devinsider_common.metrics`); and gives the call's span (devinsider_common.tracing, when tracing is on)
its gRPC status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
import structlog

from devinsider_common import context as ctx
from devinsider_common import errors, metrics, tracing
from devinsider_common.auth.policy import MethodPolicy
from devinsider_common.auth.principal import Principal
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.grpc import status as status_mapping
from devinsider_common.grpc.decoding import Undecodable, tolerant

log = structlog.get_logger("devinsider.rpc")

_STATUS_NAMES = {status.value[0]: status.name for status in grpc.StatusCode}

Behavior = Callable[[Any, grpc.ServicerContext], Any]


def _nul_violations(message: Any, prefix: str, violations: errors.Violations) -> None:
    """Adds a violation for every string field (nested, repeated, map) holding a NUL character:
    PostgreSQL text cannot store one, so such a value would otherwise end as INTERNAL."""
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entry = field.message_type.fields_by_name
            key_field, value_field = entry["key"], entry["value"]
            for key, item in value.items():
                if (key_field.type == key_field.TYPE_STRING and "\x00" in key) or (
                    value_field.type == value_field.TYPE_STRING and "\x00" in item
                ):
                    violations.add(f"{path}[{key!r}]", "must not contain NUL characters")
                elif value_field.message_type is not None:
                    _nul_violations(item, f"{path}[{key!r}].", violations)
        elif field.type == field.TYPE_STRING:
            values = value if field.is_repeated else [value]
            if any("\x00" in v for v in values):
                violations.add(path, "must not contain NUL characters")
        elif field.type == field.TYPE_MESSAGE:
            for index, item in enumerate(value if field.is_repeated else [value]):
                _nul_violations(item, f"{path}[{index}]." if field.is_repeated else f"{path}.", violations)


def _reject_nul_characters(request: Any) -> None:
    violations = errors.Violations()
    _nul_violations(request, "", violations)
    violations.raise_if_any()


def _bearer_token(metadata: Mapping[str, str]) -> str:
    header = metadata.get("authorization", "")
    if not header:
        return ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthenticated("the authorization header must be `Bearer <token>`", reason="TOKEN_MALFORMED")
    return token.strip()


class ServiceInterceptor(grpc.ServerInterceptor):
    def __init__(
        self,
        service_name: str,
        policies: Mapping[str, MethodPolicy],
        verifier: TokenVerifier,
        guard: AccessGuard,
    ) -> None:
        self._service = service_name
        self._policies = policies
        self._verifier = verifier
        self._guard = guard

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(details)
        policy = self._policies.get(details.method)
        # Only unary-unary RPCs are ours; health and reflection pass untouched.
        if handler is None or policy is None or handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            self._wrap(handler.unary_unary, policy),
            request_deserializer=tolerant(handler.request_deserializer, details.method),
            response_serializer=handler.response_serializer,
        )

    def _authenticate(self, policy: MethodPolicy, metadata: Mapping[str, str]) -> tuple[Principal | None, str]:
        token = _bearer_token(metadata)
        principal = self._verifier.verify(token) if token else None
        policy.authorize(principal)
        if principal is not None:
            self._guard.check(principal)
        return principal, token

    def _wrap(self, behavior: Behavior, policy: MethodPolicy) -> Behavior:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            metadata = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
            request_id = metadata.get("x-request-id") or ctx.new_request_id()
            remaining = context.time_remaining()
            tokens = [
                (ctx.request_id_var, ctx.request_id_var.set(request_id)),
                (ctx.method_var, ctx.method_var.set(policy.method)),
                (ctx.deadline_var, ctx.deadline_var.set(None if remaining is None else time.monotonic() + remaining)),
            ]
            context.set_trailing_metadata((("x-request-id", request_id),))
            metrics.rpc_started(policy.method)
            started = time.perf_counter()
            failure: Any = None
            principal: Principal | None = None
            try:
                principal, token = self._authenticate(policy, metadata)
                tokens.append((ctx.principal_var, ctx.principal_var.set(principal)))
                tokens.append((ctx.token_var, ctx.token_var.set(token)))
                if isinstance(request, Undecodable):
                    request.raise_error()
                _reject_nul_characters(request)
                return behavior(request, context)
            except errors.DomainError as error:
                failure = status_mapping.to_status_proto(error, self._service)
            except Exception:
                log.exception("rpc.unexpected_error", method=policy.method, request_id=request_id)
                failure = status_mapping.internal_status(request_id)
            finally:
                for var, token_ in reversed(tokens):
                    var.reset(token_)  # type: ignore[attr-defined]
                code = "OK" if failure is None else _STATUS_NAMES.get(failure.code, "UNKNOWN")
                if failure is not None:
                    tracing.record_rpc_status(failure.code, f"{code}: {failure.message}")
                elapsed = time.perf_counter() - started
                metrics.observe_rpc(policy.method, code, elapsed)
                log.info(
                    "rpc",
                    method=policy.method,
                    code=code,
                    duration_ms=round(elapsed * 1000, 2),
                    request_id=request_id,
                    subject=principal.subject if principal else None,
                )
            context.abort_with_status(status_mapping.to_grpc_status(failure))
            return None  # unreachable: abort_with_status raises

        return handle

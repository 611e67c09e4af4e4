"""Channels and typed stubs for service-to-service calls.

gRPC Python propagates neither the caller's token nor its deadline: the client interceptor
adds `authorization` (the caller's token, or a service token when a provider is given),
`x-request-id`, and a timeout no later than the current call's deadline; with tracing on, each call is
a CLIENT span and carries `traceparent` (devinsider_common.tracing). Retries on
UNAVAILABLE come from the channel's service config and only for methods declared idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import grpc

from devinsider_common import context as ctx
from devinsider_common import tracing

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 5.0

StubT = TypeVar("StubT")
TokenProvider = Callable[[], str]


def service_config(methods: Sequence[str] = (), services: Sequence[str] = (), max_attempts: int = 4) -> str:
    """Service config JSON: round robin over every address the target resolves to (a headless
    Kubernetes Service, a compose service with replicas), so one caller spreads its calls over the
    replicas instead of pinning one (gRPC's default `pick_first`); and UNAVAILABLE retried for the
    `/pkg.Service/Method`s and every method of `services` (the idempotent ones)."""
    names: list[dict[str, str]] = [{"service": s} for s in services]
    for path in methods:
        service, _, method = path.lstrip("/").partition("/")
        if not service or not method:
            raise ValueError(f"expected a method path like /pkg.Service/Method, got {path!r}")
        names.append({"service": service, "method": method})
    retry = {
        "maxAttempts": max_attempts,
        "initialBackoff": "0.05s",
        "maxBackoff": "1s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    return json.dumps(
        {
            "loadBalancingConfig": [{"round_robin": {}}],
            "methodConfig": [{"name": names, "retryPolicy": retry}] if names else [],
        }
    )


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str | bytes]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _Details(_CallDetails, grpc.ClientCallDetails):  # type: ignore[misc]
    """grpc wants a ClientCallDetails instance; a NamedTuple gives it the fields."""


class PropagatingInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds token, request id and a deadline-bounded timeout to every outgoing call."""

    def __init__(self, default_timeout: float, token_provider: TokenProvider | None = None) -> None:
        self._default_timeout = default_timeout
        self._token_provider = token_provider

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or ())
        present = {key for key, _ in metadata}
        token = self._token_provider() if self._token_provider else ctx.token_var.get()
        if token and "authorization" not in present:
            metadata.append(("authorization", f"Bearer {token}"))
        request_id = ctx.request_id_var.get()
        if request_id and "x-request-id" not in present:
            metadata.append(("x-request-id", request_id))
        timeout = details.timeout if details.timeout is not None else self._default_timeout
        remaining = ctx.remaining_seconds()
        if remaining is not None:
            timeout = min(timeout, remaining)
        return _Details(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready, details.compression
        )

    def intercept_unary_unary(
        self, continuation: Any, client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Any, client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)


def create_channel(
    target: str,
    *,
    idempotent_methods: Sequence[str] = (),
    idempotent_services: Sequence[str] = (),
    default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    token_provider: TokenProvider | None = None,
    max_attempts: int = 4,
) -> grpc.Channel:
    """An insecure (in-cluster) channel with round robin, retries, keepalive, 16 MiB messages and propagation."""
    options: list[tuple[str, Any]] = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", service_config(idempotent_methods, idempotent_services, max_attempts)),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        # Pings only while calls are in flight: servers refuse idle pings more often than every 5 min.
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 0),
    ]
    # Propagation outside, the tracing interceptor (when on: a CLIENT span, `traceparent`) inside it.
    channel = tracing.intercept_channel(grpc.insecure_channel(target, options=options))
    return grpc.intercept_channel(channel, PropagatingInterceptor(default_timeout, token_provider))


def stub(channel: grpc.Channel, stub_class: Callable[[grpc.Channel], StubT]) -> StubT:
    """The typed stub (e.g. `UserServiceStub`) over a channel; mypy keeps its .pyi types."""
    return stub_class(channel)


class ChannelFactory:
    """One channel per target, shared by the stubs of a process (bootstrap creates it, closes it)."""

    def __init__(
        self, default_timeout: float = DEFAULT_TIMEOUT_SECONDS, token_provider: TokenProvider | None = None
    ) -> None:
        self._default_timeout = default_timeout
        self._token_provider = token_provider
        self._channels: dict[tuple[str, tuple[str, ...], tuple[str, ...]], grpc.Channel] = {}

    def channel(
        self, target: str, *, idempotent_methods: Sequence[str] = (), idempotent_services: Sequence[str] = ()
    ) -> grpc.Channel:
        key = (target, tuple(idempotent_methods), tuple(idempotent_services))
        if key not in self._channels:
            self._channels[key] = create_channel(
                target,
                idempotent_methods=idempotent_methods,
                idempotent_services=idempotent_services,
                default_timeout=self._default_timeout,
                token_provider=self._token_provider,
            )
        return self._channels[key]

    def stub(
        self,
        target: str,
        stub_class: Callable[[grpc.Channel], StubT],
        *,
        idempotent_methods: Sequence[str] = (),
        idempotent_services: Sequence[str] = (),
    ) -> StubT:
        channel = self.channel(target, idempotent_methods=idempotent_methods, idempotent_services=idempotent_services)
        return stub_class(channel)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

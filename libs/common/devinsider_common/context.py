"""Request-scoped values (context variables) set by the server interceptors.

Handlers and outgoing clients read them: the principal for authorisation, the raw token and
the request id to propagate on internal calls, the deadline to pass on.
"""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from devinsider_common.auth.principal import Principal

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
principal_var: ContextVar[Principal | None] = ContextVar("principal", default=None)
token_var: ContextVar[str] = ContextVar("token", default="")
deadline_var: ContextVar[float | None] = ContextVar("deadline", default=None)
# The gRPC path of the call being served (`/devinsider.company.v1.CompanyService/ListMembers`).
method_var: ContextVar[str] = ContextVar("method", default="")


@dataclass(frozen=True)
class CallContext:
    """Snapshot of the current call's context, handed to use cases that need the caller."""

    principal: Principal | None
    request_id: str


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_principal() -> Principal | None:
    return principal_var.get()


def current_request_id() -> str:
    return request_id_var.get()


def current_method() -> str:
    return method_var.get()


def remaining_seconds() -> float | None:
    """Time left before the current call's deadline, or None when the call has none."""
    deadline = deadline_var.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())

"""Domain exceptions, free of any transport: the gRPC layer maps them to status codes with details.

Use cases raise these; `devinsider_common.grpc.status` turns them into google.rpc.Status with
`ErrorInfo{reason, domain}` and, for invalid input, `BadRequest.FieldViolation`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field of a request: its path (e.g. `user.country_code`) and why."""

    field: str
    description: str


@dataclass(frozen=True)
class QuotaViolation:
    """One quota a request exceeded (google.rpc.QuotaFailure.Violation): what it limits, and how."""

    subject: str
    description: str


@dataclass
class DomainError(Exception):
    """Base of every error a use case raises on purpose.

    `reason` is a stable UPPER_SNAKE_CASE code clients can switch on; `message` is for humans.
    """

    message: str
    reason: str = "ERROR"
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidArgument(DomainError):
    """The request is malformed; `violations` name each bad field."""

    reason: str = "INVALID_ARGUMENT"
    violations: list[FieldViolation] = field(default_factory=list)

    @classmethod
    def for_field(cls, path: str, description: str) -> InvalidArgument:
        return cls(f"{path}: {description}", violations=[FieldViolation(path, description)])


@dataclass
class NotFound(DomainError):
    """The resource does not exist, or the caller may not know that it exists."""

    reason: str = "NOT_FOUND"


@dataclass
class AlreadyExists(DomainError):
    """A resource with the same identity exists."""

    reason: str = "ALREADY_EXISTS"


@dataclass
class FailedPrecondition(DomainError):
    """The resource is not in a state that allows the operation (e.g. a decided request)."""

    reason: str = "FAILED_PRECONDITION"


@dataclass
class Conflict(DomainError):
    """A concurrent change won (version mismatch, lock held); retrying may succeed."""

    reason: str = "CONFLICT"


@dataclass
class Unauthenticated(DomainError):
    """No valid credentials."""

    reason: str = "UNAUTHENTICATED"


@dataclass
class PermissionDenied(DomainError):
    """Valid credentials that do not allow the operation."""

    reason: str = "PERMISSION_DENIED"


@dataclass
class ResourceExhausted(DomainError):
    """A quota or rate limit was hit; `retry_after_seconds`, when known, becomes a RetryInfo detail and
    `quota_violations` a QuotaFailure detail."""

    reason: str = "RESOURCE_EXHAUSTED"
    retry_after_seconds: float | None = None
    quota_violations: list[QuotaViolation] = field(default_factory=list)


@dataclass
class Unavailable(DomainError):
    """A dependency (database, another service) cannot be reached right now; retry later."""

    reason: str = "UNAVAILABLE"


class Violations:
    """Collects field violations so a request reports all its bad fields at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, path: str, description: str) -> None:
        self.items.append(FieldViolation(path, description))

    def check(self, condition: bool, path: str, description: str) -> None:
        if not condition:
            self.add(path, description)

    def raise_if_any(self, message: str = "the request has invalid fields") -> None:
        if self.items:
            detail = "; ".join(f"{v.field}: {v.description}" for v in self.items)
            raise InvalidArgument(f"{message}: {detail}", violations=list(self.items))

"""Verified-pro requests and support requests: what users ask of DevInsider staff. No I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from devinsider_common import errors, validation
from devinsider_common.errors import Violations


class ProVerificationState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ProVerification:
    id: str
    user_id: str
    work_email: str
    company_name: str
    evidence_url: str = ""
    message: str = ""
    state: ProVerificationState = ProVerificationState.PENDING
    rejection_reason: str = ""
    reviewer: str = ""
    created_at: datetime | None = None
    decided_at: datetime | None = None
    idempotency_key: str = ""

    @property
    def name(self) -> str:
        return f"proVerifications/{self.id}"

    def validate(self) -> None:
        checks = Violations()
        validation.email(checks, "pro_verification.work_email", self.work_email, required=True)
        validation.text(checks, "pro_verification.company_name", self.company_name, max_len=200, required=True)
        validation.https_url(checks, "pro_verification.evidence_url", self.evidence_url)
        validation.text(checks, "pro_verification.message", self.message, max_len=2000)
        checks.raise_if_any("invalid verification request")

    def decide(self, approve: bool, reviewer: str, now: datetime, reason: str = "") -> ProVerification:
        """Approve or reject; only a pending request can be decided."""
        if self.state is not ProVerificationState.PENDING:
            raise errors.FailedPrecondition(
                f"{self.name} is already {self.state.value}", reason="PRO_VERIFICATION_DECIDED"
            )
        if not approve:
            checks = Violations()
            validation.text(checks, "reason", reason, max_len=2000, required=True)
            checks.raise_if_any()
        state = ProVerificationState.APPROVED if approve else ProVerificationState.REJECTED
        return replace(self, state=state, reviewer=reviewer, decided_at=now, rejection_reason=reason)


@dataclass(frozen=True)
class SupportRequest:
    id: str
    user_id: str
    subject: str
    message: str
    created_at: datetime | None = None
    idempotency_key: str = ""

    @property
    def name(self) -> str:
        return f"supportRequests/{self.id}"

    def validate(self) -> None:
        checks = Violations()
        validation.text(checks, "support_request.subject", self.subject, max_len=200, required=True)
        validation.text(checks, "support_request.message", self.message, max_len=5000, required=True)
        checks.raise_if_any("invalid support request")

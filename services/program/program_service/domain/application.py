"""Applications of ISV companies to programs and their state machine. No I/O.

pending -> approved | rejected | withdrawn; every other transition is FAILED_PRECONDITION.
Approved applications are the program's member companies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from devinsider_common import errors, validation
from devinsider_common.errors import Violations

PROGRAM_DELETED_REASON = "the program was deleted"
# Who a mail about an application goes to: (e-mail, display name).
Recipient = tuple[str, str]


class ApplicationState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# States that block a new application of the same company to the same program.
OPEN_STATES = (ApplicationState.PENDING, ApplicationState.APPROVED)


@dataclass(frozen=True)
class Application:
    id: str
    program_id: str
    company_id: str
    applicant_subject: str
    message: str = ""
    state: ApplicationState = ApplicationState.PENDING
    applicant: str = ""  # `users/{id}` when known, else the subject
    applicant_email: str = ""
    applicant_name: str = ""
    company_display_name: str = ""
    rejection_reason: str = ""
    decider: str = ""
    created_at: datetime | None = None
    decided_at: datetime | None = None
    idempotency_key: str = ""

    @property
    def name(self) -> str:
        return f"programs/{self.program_id}/applications/{self.id}"

    @property
    def company(self) -> str:
        return f"companies/{self.company_id}"

    def _decide(self, state: ApplicationState, decider: str, now: datetime, reason: str = "") -> Application:
        if self.state is not ApplicationState.PENDING:
            raise errors.FailedPrecondition(
                f"the application is {self.state.value}, not pending", reason="APPLICATION_NOT_PENDING"
            )
        return replace(self, state=state, decider=decider, decided_at=now, rejection_reason=reason)

    def approve(self, decider: str, now: datetime) -> Application:
        return self._decide(ApplicationState.APPROVED, decider, now)

    def reject(self, decider: str, reason: str, now: datetime) -> Application:
        reason = reason.strip()
        checks = Violations()
        validation.text(checks, "reason", reason, max_len=2000, required=True)
        checks.raise_if_any("invalid rejection")
        return self._decide(ApplicationState.REJECTED, decider, now, reason)

    def withdraw(self, decider: str, now: datetime) -> Application:
        return self._decide(ApplicationState.WITHDRAWN, decider, now)

    def close_for_deleted_program(self, decider: str, now: datetime) -> Application:
        return self._decide(ApplicationState.REJECTED, decider, now, PROGRAM_DELETED_REASON)


@dataclass(frozen=True)
class ApplicationView:
    """An application and the display name of its program (what its messages show)."""

    application: Application
    program_title: str = ""

"""Contact requests: a page asks a page it unlocked to get in touch.

A request is named under its SENDER (`{page}/contactRequests/{id}`). It is PENDING until the addressed
page (the target) accepts it, naming its own contact person, or declines it, or the sender withdraws it.
One pending or accepted request per ordered pair (sender, target): the database holds that rule with a
partial unique index. A declined pair may try again once the cool-down has passed; a withdrawn one at once.
The target sees the sender's contact person only once it accepted (`seen_by_target`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from devinsider_common import errors
from devinsider_common.clock import as_utc
from devinsider_common.pages.names import PageName, is_id

MESSAGE_MAX_LENGTH = 2000
DECLINE_REASON_MAX_LENGTH = 500
EXCERPT_LENGTH = 200


class RequestState(enum.IntEnum):
    """Values of devinsider.contact.v1.ContactRequestState."""

    PENDING = 1
    ACCEPTED = 2
    DECLINED = 3
    WITHDRAWN = 4


# The states that hold the pair: no second request while one of these exists.
OPEN_STATES = (RequestState.PENDING, RequestState.ACCEPTED)


class Direction(enum.IntEnum):
    """Values of devinsider.contact.v1.ContactRequestDirection."""

    INCOMING = 1
    OUTGOING = 2


@dataclass(frozen=True)
class ContactPerson:
    """A page's contact person as the user directory knew them when named."""

    user: str  # `users/{id}`
    display_name: str
    email: str


@dataclass(frozen=True)
class ContactRequest:
    id: str
    sender: PageName
    target: PageName
    message: str
    sender_contact: ContactPerson | None  # None only in the target's view of an unanswered request
    sender_display_name: str
    target_display_name: str
    creator: str
    created_at: datetime
    state: RequestState = RequestState.PENDING
    request_id: str | None = None
    target_contact: ContactPerson | None = None
    conversation_id: str = ""
    decline_reason: str = ""
    decider: str = ""
    decided_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.sender.child("contactRequests", self.id)

    @property
    def conversation(self) -> str:
        return f"conversations/{self.conversation_id}" if self.conversation_id else ""

    def accepted(self, contact: ContactPerson, conversation_id: str, decider: str, now: datetime) -> ContactRequest:
        require_state(self, "accept", RequestState.PENDING)
        return replace(
            self,
            state=RequestState.ACCEPTED,
            target_contact=contact,
            conversation_id=conversation_id,
            decider=decider,
            decided_at=now,
        )

    def declined(self, reason: str, decider: str, now: datetime) -> ContactRequest:
        require_state(self, "decline", RequestState.PENDING)
        return replace(self, state=RequestState.DECLINED, decline_reason=reason, decider=decider, decided_at=now)

    def withdrawn(self, decider: str, now: datetime) -> ContactRequest:
        require_state(self, "withdraw", RequestState.PENDING)
        return replace(self, state=RequestState.WITHDRAWN, decider=decider, decided_at=now)

    def seen_by_target(self) -> ContactRequest:
        """What the addressed page may see: the sender's contact person only once it accepted."""
        if self.state is RequestState.ACCEPTED:
            return self
        return replace(self, sender_contact=None)


def require_state(request: ContactRequest, action: str, *states: RequestState) -> None:
    if request.state not in states:
        raise errors.FailedPrecondition(
            f"cannot {action} a contact request that is {request.state.name.lower()}",
            reason="CONTACT_REQUEST_NOT_PENDING",
        )


def check_new_request(sender: PageName, target: PageName, message: str, contact_user: str) -> None:
    """Every bad field of a new request at once (INVALID_ARGUMENT with field violations)."""
    checks = errors.Violations()
    checks.check(target != sender, "contact_request.target.name", "must be another page than the sender")
    check_text(checks, "contact_request.message", message, MESSAGE_MAX_LENGTH)
    check_user(checks, "contact_request.sender_contact.user", contact_user)
    checks.raise_if_any()


def check_user(checks: errors.Violations, path: str, user: str) -> None:
    """A user's resource name, `users/{id}`."""
    collection, _, user_id = user.partition("/")
    if not user:
        checks.add(path, "is required")
    elif collection != "users" or not is_id(user_id):
        checks.add(path, "must look like `users/{id}`")


def check_text(checks: errors.Violations, path: str, text: str, maximum: int) -> None:
    """A required text: not blank, at most `maximum` characters."""
    if not text.strip():
        checks.add(path, "is required")
    elif len(text) > maximum:
        checks.add(path, f"must be at most {maximum} characters (it has {len(text)})")


def check_decline_reason(reason: str) -> None:
    if len(reason) > DECLINE_REASON_MAX_LENGTH:
        raise errors.InvalidArgument.for_field("reason", f"must be at most {DECLINE_REASON_MAX_LENGTH} characters")


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of a text for a notification: whitespace folded, cut at `length` with an ellipsis."""
    folded = " ".join(text.split())
    return folded if len(folded) <= length else folded[: length - 1].rstrip() + "…"


def require_cooled_down(last_declined_at: datetime | None, cooldown: timedelta, now: datetime) -> None:
    """A pair declined less than `cooldown` ago may not ask again yet."""
    if last_declined_at is None:
        return
    again = as_utc(last_declined_at) + cooldown
    if again > now:
        raise errors.FailedPrecondition(
            f"this page declined your last request; you may send a new one from {again:%Y-%m-%d %H:%M} UTC",
            reason="CONTACT_REQUEST_COOLDOWN",
        )

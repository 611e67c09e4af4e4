"""What the notification service learns from the other services' events, as plain values.

The adapters read each event (`adapters/event_reader.py`) into one of these; the projections (who
is a member of which page, a user's address, a page's display name) and the notifications are made
from them. Page ids and user ids are the owners' (`users/{id}` without `users/`: a member's id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PageRole


# -- projections -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberChanged:
    """A member added, whose role changed, or removed (`role` None), as of `at`."""

    page: PageName
    member: str  # the member's id: its user's id, or its subject when the page service knew no user
    subject: str
    role: PageRole | None
    email: str
    display_name: str
    at: datetime


@dataclass(frozen=True)
class PageChanged:
    page: PageName
    display_name: str
    deleted: bool
    at: datetime


@dataclass(frozen=True)
class UserChanged:
    """A user created or updated; `deleted`: the account is gone (erase everything about it)."""

    user: str  # the user's id
    subject: str
    email: str
    display_name: str
    deleted: bool
    at: datetime


# -- what is notified --------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvitationSent:
    invitation: str  # `{page}/invitations/{id}`
    page: PageName
    page_display_name: str
    email: str
    role: PageRole


@dataclass(frozen=True)
class UnlockCreated:
    unlock: str  # `{unlocker}/unlocks/{id}`
    unlocker: PageName
    target: PageName
    balance: int  # the unlocker's credits after the unlock


@dataclass(frozen=True)
class ApplicationChanged:
    application: str  # `programs/{id}/applications/{id}`
    program: PageName
    company: PageName
    state: str  # pending (created), approved, rejected, withdrawn
    program_display_name: str
    company_display_name: str
    rejection_reason: str = ""


@dataclass(frozen=True)
class PaymentFailed:
    page: PageName
    about: str  # the checkout or the subscription
    reason: str


@dataclass(frozen=True)
class SubscriptionRenewed:
    page: PageName
    subscription: str
    invoice: str
    amount: str  # `99.00 EUR`


@dataclass(frozen=True)
class SubscriptionChanged:
    page: PageName
    subscription: str
    state: str  # trialing, active, past_due, canceled, expired
    previous: str  # "" on creation
    cancel_at_period_end: bool
    period_end: datetime | None


@dataclass(frozen=True)
class MatchFound:
    company: PageName
    target: PageName
    score: float
    company_display_name: str
    target_display_name: str


@dataclass(frozen=True)
class ContactRequestCreated:
    request: str
    sender: PageName
    sender_display_name: str
    target: PageName  # the page to notify
    target_display_name: str
    excerpt: str


@dataclass(frozen=True)
class ContactRequestDecided:
    request: str
    accepted: bool
    sender: PageName  # the page to notify
    sender_display_name: str
    target_display_name: str
    conversation: str  # accepted only
    reason: str  # declined only


@dataclass(frozen=True)
class ContactRequestWithdrawn:
    request: str
    sender_display_name: str
    target: PageName  # the page to notify
    target_display_name: str


@dataclass(frozen=True)
class ContactMessageCreated:
    message: str  # `conversations/{id}/messages/{id}`
    conversation: str
    author_page_display_name: str
    recipient: PageName  # the page to notify
    recipient_display_name: str
    recipient_contact: str  # the user id of the recipient page's contact person ("" when none)
    excerpt: str


ProjectionFact = MemberChanged | PageChanged | UserChanged
NotifiedFact = (
    InvitationSent
    | UnlockCreated
    | ApplicationChanged
    | PaymentFailed
    | SubscriptionRenewed
    | SubscriptionChanged
    | MatchFound
    | ContactRequestCreated
    | ContactRequestDecided
    | ContactRequestWithdrawn
    | ContactMessageCreated
)
Fact = ProjectionFact | NotifiedFact

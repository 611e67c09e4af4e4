"""Every mail DevInsider sends: template id -> who sends it, what it is, and sample variables.

The samples are what the sender puts in `MailRequested.variables` (every key, with a typical value):
the contract a mail service renders against, and what the template test renders each template with
(libs/common/tests/unit/test_mail_templates.py checks that every id the code mails is here, has both
files, and renders with these variables alone).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

APP = "http://localhost:3000"


@dataclass(frozen=True)
class MailSpec:
    sender: str  # the service that publishes it
    about: str
    sample: Mapping[str, str] = field(default_factory=dict)


def _invitation(sender: str, collection: str) -> MailSpec:
    accept = f"{APP}/invitations/accept?invitation={collection}%2Fp1%2Finvitations%2Fi1&token=t0k"
    return MailSpec(
        sender,
        "an invitation to join a page, with its one-time accept link",
        {
            "page_display_name": "Acme Analytics",
            "inviter_name": "Alice Martin",
            "role": "editor",
            "accept_url": accept,
            "expire_time": "2026-12-01T12:00:00+00:00",
            "message": "Join us on DevInsider!",
        },
    )


_APPLICATION = {
    "program_display_name": "Cloud Partners",
    "company_display_name": "Acme Analytics",
    "applicant_name": "Alice Martin",
    "application": "programs/p1/applications/a1",
    "message": "We would love to join.",
    "rejection_reason": "",
}
_NOTIFICATION = {"preferences_url": f"{APP}/settings/notifications"}

CATALOG: Final[dict[str, MailSpec]] = {
    # user
    "welcome": MailSpec("user", "the first sign-in", {"given_name": "Ada"}),
    "pro_verification_approved": MailSpec(
        "user", "a verified-pro request approved", {"company_name": "Acme Analytics", "reason": ""}
    ),
    "pro_verification_rejected": MailSpec(
        "user", "a verified-pro request rejected", {"company_name": "Acme Analytics", "reason": "No company e-mail"}
    ),
    "support_request_received": MailSpec("user", "a support request acknowledged", {"subject": "Cannot log in"}),
    # pages
    "company_invitation": _invitation("company", "companies"),
    "investor_invitation": _invitation("investor", "investors"),
    "program_invitation": _invitation("program", "programs"),
    "company_claim_approved": MailSpec(
        "company", "a claim of a pre-listed company approved", {"page_display_name": "Acme Analytics", "reason": ""}
    ),
    "company_claim_rejected": MailSpec(
        "company",
        "a claim of a pre-listed company rejected",
        {"page_display_name": "Acme Analytics", "reason": "No proof of employment"},
    ),
    # program applications
    "program_application_received": MailSpec("program", "a company applied to the program", _APPLICATION),
    "program_application_approved": MailSpec("program", "the program approved the application", _APPLICATION),
    "program_application_rejected": MailSpec(
        "program", "the program rejected the application", {**_APPLICATION, "rejection_reason": "Not a fit yet"}
    ),
    "program_application_withdrawn": MailSpec("program", "the company withdrew its application", _APPLICATION),
    # billing
    "billing_receipt": MailSpec("billing", "a payment's receipt", {"number": "F-2026-0001", "total": "99.00 EUR"}),
    "billing_payment_failed": MailSpec("billing", "a refused payment", {"reason": "card declined"}),
    # notification (docs/consumers.md: the events each comes from)
    "notification_unlock_received": MailSpec(
        "notification",
        "another page unlocked one of the recipient's pages",
        {
            **_NOTIFICATION,
            "page_display_name": "Acme Analytics",
            "unlocker_display_name": "Blue Fund",
            "link": f"{APP}/companies/c1",
        },
    ),
    "notification_credits_low": MailSpec(
        "notification",
        "a page of the recipient runs low on credits",
        {**_NOTIFICATION, "page_display_name": "Blue Fund", "balance": "1", "link": f"{APP}/investors/i1/billing"},
    ),
    "notification_contact_request_received": MailSpec(
        "notification",
        "a page asks one of the recipient's pages to get in touch",
        {
            **_NOTIFICATION,
            "page_display_name": "Acme Analytics",
            "sender_display_name": "Blue Fund",
            "message_excerpt": "We invest in B2B analytics and would like to talk.",
            "link": f"{APP}/companies/c1/contactRequests/r1",
        },
    ),
    "notification_contact_request_accepted": MailSpec(
        "notification",
        "the addressed page accepted the recipient's page's contact request",
        {
            **_NOTIFICATION,
            "page_display_name": "Blue Fund",
            "target_display_name": "Acme Analytics",
            "link": f"{APP}/conversations/v1",
        },
    ),
    "notification_contact_request_declined": MailSpec(
        "notification",
        "the addressed page declined the recipient's page's contact request",
        {
            **_NOTIFICATION,
            "page_display_name": "Blue Fund",
            "target_display_name": "Acme Analytics",
            "reason": "Not raising now",
            "link": f"{APP}/investors/i1/contactRequests/r1",
        },
    ),
    "notification_contact_message_received": MailSpec(
        "notification",
        "a new message in a conversation of the recipient's page",
        {
            **_NOTIFICATION,
            "page_display_name": "Acme Analytics",
            "author_page_display_name": "Blue Fund",
            "message_excerpt": "Would Tuesday work for a call?",
            "link": f"{APP}/conversations/v1",
        },
    ),
    "notification_subscription_ending": MailSpec(
        "notification",
        "a subscription of the recipient's page will not renew",
        {
            **_NOTIFICATION,
            "page_display_name": "Acme Analytics",
            "end_date": "2026-12-31",
            "link": f"{APP}/companies/c1/billing",
        },
    ),
    "notification_subscription_ended": MailSpec(
        "notification",
        "a subscription of the recipient's page ended",
        {**_NOTIFICATION, "page_display_name": "Acme Analytics", "link": f"{APP}/companies/c1/billing"},
    ),
    "notification_match_digest": MailSpec(
        "notification",
        "the digest of new matches (daily or weekly)",
        {
            **_NOTIFICATION,
            "period": "daily",
            "match_count": "2",
            "link": f"{APP}/matches",
            # A JSON list: one object per match (the recipient's page, the other page, its score, a link).
            "matches": json.dumps(
                [
                    {
                        "page_display_name": "Acme Analytics",
                        "match_display_name": "Blue Fund",
                        "score": "91",
                        "link": f"{APP}/investors/i1",
                    },
                    {
                        "page_display_name": "Acme Analytics",
                        "match_display_name": "Cloud Partners",
                        "score": "82",
                        "link": f"{APP}/programs/p1",
                    },
                ]
            ),
        },
    ),
}

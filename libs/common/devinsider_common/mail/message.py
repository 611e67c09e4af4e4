"""A mail as the sinks see it, built from the `MailRequested` event the services publish.

The services name a template and its variables; rendering the real templates is the mail
service's job. Until then (and for local runs) a mail gets a plain subject and a text body that
lists the variables, and its links are pulled out so a person or a test can follow them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from devinsider.common.v1.mail_pb2 import MailRequested

_LINK = re.compile(r"^https?://\S+$")
# Subjects of the templates whose mail must be actionable locally; others get a generic subject.
_SUBJECTS = {
    "company_invitation": "{inviter_name} invites you to {page_display_name} on DevInsider",
    "investor_invitation": "{inviter_name} invites you to {page_display_name} on DevInsider",
    "program_invitation": "{inviter_name} invites you to {page_display_name} on DevInsider",
}


@dataclass(frozen=True)
class Mail:
    message_id: str  # the outbox message id: one mail per id, however often it is delivered
    template: str
    to_email: str
    to_name: str
    subject: str
    text: str
    created_at: datetime
    locale: str = "en"
    links: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)


def mail_from_request(request: MailRequested, message_id: str, created_at: datetime) -> Mail:
    variables = dict(sorted(request.variables.items()))
    links = tuple(value for value in variables.values() if _LINK.match(value))
    return Mail(
        message_id=message_id,
        template=request.template,
        to_email=request.to_email,
        to_name=request.to_name,
        subject=_subject(request.template, variables),
        text=_text(request.to_name, request.template, variables, links),
        created_at=created_at,
        locale=request.locale or "en",
        links=links,
        variables=variables,
    )


def _subject(template: str, variables: dict[str, str]) -> str:
    try:
        return _SUBJECTS[template].format_map(variables)
    except KeyError:  # an unknown template, or a variable it lacks
        return f"DevInsider: {template.replace('_', ' ')}"


def _text(to_name: str, template: str, variables: dict[str, str], links: tuple[str, ...]) -> str:
    lines = [f"Hello {to_name or 'there'},", "", f"DevInsider sends you a `{template}` mail.", ""]
    lines += [f"{name}: {value}" for name, value in variables.items() if value not in links]
    if links:
        lines += ["", "Links:", *links]
    return "\n".join(lines) + "\n"

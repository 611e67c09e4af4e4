"""A mail as the sinks see it, built from the `MailRequested` event the services publish.

The services name a template, a locale and its variables; the mail is rendered from the repository's
templates (`devinsider_common.mail.rendering`: subject, text and HTML), the ones a mail service renders
too. A request the templates cannot render (an unknown id, a missing variable: a bug the template test
exists to catch) is not lost: it gets a plain subject and a text body that lists its variables, and the
failure is logged. Links among the variables are pulled out so a person or a test can follow them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider_common.mail.rendering import MailRenderer, TemplateError, default_renderer

log = structlog.get_logger("devinsider.mail")
_LINK = re.compile(r"^https?://\S+$")


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
    html: str = ""  # empty when the templates could not render it


def mail_from_request(
    request: MailRequested, message_id: str, created_at: datetime, renderer: MailRenderer | None = None
) -> Mail:
    variables = dict(sorted(request.variables.items()))
    links = tuple(value for value in variables.values() if _LINK.match(value))
    locale = request.locale or "en"
    try:
        rendered = (renderer or default_renderer()).render(request.template, locale, variables, request.to_name)
        subject, text, html = rendered.subject, rendered.text, rendered.html
        locale = rendered.locale  # what the mail is written in, after the fallback
    except TemplateError as error:
        log.warning("mail_template_failed", template=request.template, error=str(error))
        subject = f"DevInsider: {request.template.replace('_', ' ')}"
        text, html = _text(request.to_name, request.template, variables, links), ""
    return Mail(
        message_id=message_id,
        template=request.template,
        to_email=request.to_email,
        to_name=request.to_name,
        subject=subject,
        text=text,
        created_at=created_at,
        locale=locale,
        links=links,
        variables=variables,
        html=html,
    )


def _text(to_name: str, template: str, variables: dict[str, str], links: tuple[str, ...]) -> str:
    lines = [f"Hello {to_name or 'there'},", "", f"DevInsider sends you a `{template}` mail.", ""]
    lines += [f"{name}: {value}" for name, value in variables.items() if value not in links]
    if links:
        lines += ["", "Links:", *links]
    return "\n".join(lines) + "\n"

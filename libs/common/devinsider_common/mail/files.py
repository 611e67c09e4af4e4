"""A mail sink that writes each mail to a directory as an RFC 5322 `.eml` file (local runs, tests).

Any mail client opens the files: a rendered mail is multipart/alternative, its plain text first and
its HTML second, as a mail service sends it. The subject and the links are also logged, so the
invitation a local run sends can be followed from the terminal. The file name comes from the message id, so a
mail delivered twice (the relay is at-least-once) is the same file.
"""

from __future__ import annotations

import os
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import structlog

from devinsider_common.mail.message import Mail

log = structlog.get_logger("devinsider.mail")
SENDER = formataddr(("DevInsider", "no-reply@devinsider.local"))


class FileMailSink:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def path_of(self, mail: Mail) -> Path:
        stamp = mail.created_at.strftime("%Y%m%dT%H%M%S")
        return self._directory / f"{stamp}-{mail.template}-{mail.message_id}.eml"

    def deliver(self, mail: Mail) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self.path_of(mail)
        partial = path.with_suffix(".part")  # readers never see half a mail
        partial.write_bytes(bytes(to_email_message(mail)))
        os.replace(partial, path)
        log.info("mail_written", to=mail.to_email, subject=mail.subject, links=list(mail.links), path=str(path))


def to_email_message(mail: Mail) -> EmailMessage:
    # Unwrapped 8-bit text: links stay whole and greppable in the file (no quoted-printable).
    message = EmailMessage(policy=policy.default.clone(max_line_length=None))
    message["From"] = SENDER
    message["To"] = formataddr((mail.to_name, mail.to_email))
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = f"<{mail.message_id}@devinsider.local>"
    message["X-DevInsider-Template"] = mail.template
    message.set_content(mail.text, cte="8bit")
    if mail.html:
        message.add_alternative(mail.html, subtype="html", cte="8bit")
    message["Content-Language"] = mail.locale  # after set_content, which replaces Content-* headers
    return message

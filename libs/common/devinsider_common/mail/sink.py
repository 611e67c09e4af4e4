"""The port every mail sink implements: where a mail goes once a service asked for it."""

from __future__ import annotations

from typing import Protocol

from devinsider_common.mail.message import Mail


class MailSink(Protocol):
    def deliver(self, mail: Mail) -> None:
        """Hand `mail` over; raises when it could not be (the caller retries). Delivering the same
        `message_id` again must not make a second mail."""
        ...

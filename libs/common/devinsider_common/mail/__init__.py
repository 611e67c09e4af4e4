"""Outgoing mail: the `MailSink` port, the mail built from a `MailRequested` event, and the file
sink local runs use (`MAIL_SINK_DIR`). A real sender (SMTP, a provider's API) is another adapter."""

from devinsider_common.mail.files import FileMailSink, to_email_message
from devinsider_common.mail.message import Mail, mail_from_request
from devinsider_common.mail.sink import MailSink

__all__ = ["FileMailSink", "Mail", "MailSink", "mail_from_request", "to_email_message"]

"""The local mail sink: one .eml file per mail, with its recipient, subject, text and links."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from structlog.testing import capture_logs

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider_common.mail import FileMailSink, mail_from_request

WHEN = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
ACCEPT = "http://localhost:3000/invitations/accept?invitation=companies%2Fc1%2Finvitations%2Fi1&token=t0k"


def invitation() -> MailRequested:
    variables = {"page_display_name": "Acme", "inviter_name": "Alice Martin", "role": "editor", "accept_url": ACCEPT}
    return MailRequested(template="company_invitation", to_email="bob@example.com", to_name="Bob", variables=variables)


def read(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def test_a_mail_is_an_eml_file_with_recipient_subject_text_and_links(tmp_path: Path) -> None:
    sink = FileMailSink(tmp_path / "mail")
    mail = mail_from_request(invitation(), "m-1", WHEN)
    with capture_logs() as logs:
        sink.deliver(mail)
    [path] = (tmp_path / "mail").iterdir()
    assert path.name == "20261125T123000-company_invitation-m-1.eml"
    message = read(path)
    assert message["To"] == "Bob <bob@example.com>"
    assert message["Subject"] == "Alice Martin invites you to Acme on DevInsider"
    assert (message["X-DevInsider-Template"], message["Content-Language"]) == ("company_invitation", "en")
    body = message.get_content()
    assert "Hello Bob," in body and "role: editor" in body and "page_display_name: Acme" in body
    assert body.rstrip().endswith(f"Links:\n{ACCEPT}")
    assert mail.links == (ACCEPT,)
    assert f"\n{ACCEPT}\n" in path.read_text()  # whole in the file, for grep and for people
    [logged] = [entry for entry in logs if entry["event"] == "mail_written"]
    assert (logged["subject"], logged["links"], logged["to"]) == (message["Subject"], [ACCEPT], "bob@example.com")


def test_the_same_message_delivered_twice_is_one_mail(tmp_path: Path) -> None:
    sink = FileMailSink(tmp_path)
    sink.deliver(mail_from_request(invitation(), "m-2", WHEN))
    sink.deliver(mail_from_request(invitation(), "m-2", WHEN))
    assert [p.suffix for p in tmp_path.iterdir()] == [".eml"]


def test_other_templates_get_a_generic_subject_and_no_links(tmp_path: Path) -> None:
    request = MailRequested(template="billing_receipt", to_email="ops@acme.io", variables={"number": "F-1"})
    mail = mail_from_request(request, "m-3", WHEN)
    assert (mail.subject, mail.links) == ("DevInsider: billing receipt", ())
    FileMailSink(tmp_path).deliver(mail)
    message = read(next(tmp_path.iterdir()))
    assert message["To"] == "ops@acme.io" and "number: F-1" in message.get_content()

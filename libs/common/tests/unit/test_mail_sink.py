"""The local mail sink: one .eml file per mail, rendered from its template (text and HTML alternatives),
with its recipient, subject and links."""

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
    variables = {
        "page_display_name": "Acme",
        "inviter_name": "Alice Martin",
        "role": "editor",
        "accept_url": ACCEPT,
        "expire_time": "2026-12-02T12:30:00+00:00",
        "message": "",
    }
    return MailRequested(template="company_invitation", to_email="bob@example.com", to_name="Bob", variables=variables)


def read(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_a_mail_is_an_eml_file_rendered_from_its_template_with_recipient_subject_and_links(tmp_path: Path) -> None:
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
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_and_html(message)
    assert text.startswith("Hello Bob,\n") and "join Acme on DevInsider as editor" in text
    assert f"\n{ACCEPT}\n" in text  # a line of its own: whole in the file, for grep and for people
    assert ACCEPT.replace("&", "&amp;") in html
    assert "<title>Alice Martin invites you to Acme on DevInsider</title>" in html
    assert mail.links == (ACCEPT,)
    assert f"\n{ACCEPT}\n" in path.read_text()
    [logged] = [entry for entry in logs if entry["event"] == "mail_written"]
    assert (logged["subject"], logged["links"], logged["to"]) == (message["Subject"], [ACCEPT], "bob@example.com")


def test_the_same_message_delivered_twice_is_one_mail(tmp_path: Path) -> None:
    sink = FileMailSink(tmp_path)
    sink.deliver(mail_from_request(invitation(), "m-2", WHEN))
    sink.deliver(mail_from_request(invitation(), "m-2", WHEN))
    assert [p.suffix for p in tmp_path.iterdir()] == [".eml"]


def test_a_request_its_template_cannot_render_is_still_written_with_its_variables(tmp_path: Path) -> None:
    """A missing variable (or an unknown template) is a bug the template test catches; locally the mail
    is not lost: a generic subject, a text listing the variables, the failure logged."""
    request = MailRequested(template="billing_receipt", to_email="ops@acme.io", variables={"number": "F-1"})
    with capture_logs() as logs:
        mail = mail_from_request(request, "m-3", WHEN)
    assert (mail.subject, mail.links, mail.html) == ("DevInsider: billing receipt", (), "")
    assert [e["template"] for e in logs if e["event"] == "mail_template_failed"] == ["billing_receipt"]
    FileMailSink(tmp_path).deliver(mail)
    message = read(next(tmp_path.iterdir()))
    assert message["To"] == "ops@acme.io" and "number: F-1" in message.get_content()


def test_the_locale_of_the_request_picks_the_templates_with_english_as_the_fallback(tmp_path: Path) -> None:
    request = MailRequested(
        template="billing_receipt",
        to_email="ops@acme.io",
        locale="fr",
        variables={"number": "F-1", "total": "9.00 EUR"},
    )
    mail = mail_from_request(request, "m-4", WHEN)
    assert (mail.subject, mail.locale) == ("Your DevInsider receipt F-1", "en")  # no French templates yet
    assert "payment of 9.00 EUR" in mail.text and "<strong>9.00 EUR</strong>" in mail.html

"""Mail requests and direct events written once for every publisher (devinsider_common.outbox.writer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast
from urllib.parse import parse_qs, urlsplit

from devinsider.common.v1 import mail_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import add_direct, request_mail
from devinsider_common.pages.mail import invitation_mail_variables
from devinsider_common.pages.model import Invitation, Member
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.outbox import RecordingOutbox

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
MAIL_KEY = topology.direct_routing_key(topology.MAIL)


def test_a_mail_goes_to_the_mail_exchange_with_its_template_and_a_stable_external_id() -> None:
    outbox = RecordingOutbox()
    request_mail(outbox.writer, "ada@example.com", "welcome", {"given_name": "Ada"}, to_name="Ada L")
    request_mail(outbox.writer, "bob@example.com", "welcome", {}, external_id="users/bob")
    first, second = outbox.rows
    assert (first.exchange, first.routing_key, first.external_id) == (
        topology.MAIL,
        MAIL_KEY,
        "mail:welcome:ada@example.com",
    )
    mail = cast(mail_pb2.MailRequested, first.event)
    assert (mail.template, mail.to_email, mail.to_name, mail.locale) == ("welcome", "ada@example.com", "Ada L", "en")
    assert dict(mail.variables) == {"given_name": "Ada"}
    assert second.external_id == "users/bob"


def test_no_address_no_mail() -> None:
    outbox = RecordingOutbox()
    request_mail(outbox.writer, "", "welcome", {})
    assert outbox.rows == []


def test_a_direct_event_takes_its_exchange_routing_key() -> None:
    outbox = RecordingOutbox()
    event = mail_pb2.MailRequested(template="any")
    add_direct(outbox.writer, topology.ODOO_COMPANY, event, "companies/acme")
    [row] = outbox.rows
    assert (row.exchange, row.routing_key, row.external_id) == (
        topology.ODOO_COMPANY,
        topology.direct_routing_key(topology.ODOO_COMPANY),
        "companies/acme",
    )
    assert row.event is event


def test_the_invitation_mail_links_to_the_accept_page_with_the_name_and_token() -> None:
    invitation = Invitation(
        "i1", "acme", "bob@example.com", PageRole.EDITOR, "users/u-ada", "hash", NOW, NOW + timedelta(days=7), "Hi"
    )
    inviter = Member("acme", "kc-ada", PageRole.OWNER, display_name="", email="ada@example.com")
    variables = invitation_mail_variables(
        invitation, "companies/acme/invitations/i1", "t&k", "Acme", inviter, "https://app.example/accept"
    )
    link = urlsplit(variables.pop("accept_url"))
    assert f"{link.scheme}://{link.netloc}{link.path}" == "https://app.example/accept"
    assert parse_qs(link.query) == {"invitation": ["companies/acme/invitations/i1"], "token": ["t&k"]}
    assert variables == {
        "page_display_name": "Acme",
        "inviter_name": "ada@example.com",  # no display name: the e-mail
        "role": "editor",
        "expire_time": "2026-12-02T12:00:00+00:00",
        "message": "Hi",
    }

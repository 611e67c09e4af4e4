"""The company events as the publisher writes them to the outbox (recorded here without a database):
their exchanges, routing keys, external ids and payloads; the invitation token in the mail only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast
from urllib.parse import parse_qs, urlparse

from company_service.adapters.event_publisher import CompanyEventPublisher
from company_service.domain.content import CompanyContent, Contact
from company_service.domain.model import Claim, Company, Logo
from devinsider.common.v1 import mail_pb2, page_pb2
from devinsider.company.v1 import events_pb2
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.pages.model import Invitation, Member
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.outbox import RecordingOutbox

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _publisher() -> tuple[CompanyEventPublisher, RecordingOutbox]:
    outbox = RecordingOutbox()
    titles = {"c1": "Acme"}
    publisher = CompanyEventPublisher(
        cast(OutboxWriter, outbox), titles.get, "https://web.example/accept", lambda i: f"/v1/companies/{i}/logo"
    )
    return publisher, outbox


COMPANY = Company(
    "c1",
    CompanyContent(display_name="Acme", contact=Contact(email="hq@acme.io")),
    logo=Logo("c1/x.png", "image/png"),
    claim=Claim("kc-bob", "users/7", "Bob", "bob@acme.io", "CEO", "https://linkedin.com/in/bob"),
    created_at=T0,
    updated_at=T0,
)
MEMBER = Member("c1", "kc-bob", PageRole.EDITOR, "users/7", "Bob", "bob@acme.io", T0, T0)


def test_page_events_go_to_odoo_with_the_full_page() -> None:
    publisher, outbox = _publisher()
    publisher.company_created(COMPANY, "kc-alice")
    publisher.company_updated(COMPANY, ["display_name"])
    publisher.claim_requested(COMPANY, COMPANY.claim)  # type: ignore[arg-type]
    publisher.company_deleted(COMPANY, "users/1")
    assert {(r.exchange, r.routing_key, r.external_id) for r in outbox.rows} == {
        ("odoo_company.exchange.direct", "odoo_company_queue", "companies/c1")
    }
    created, updated, claimed, deleted = (r.event for r in outbox.rows)
    assert isinstance(created, events_pb2.CompanyCreated) and created.creator == "kc-alice"
    assert created.company.contact.email == "hq@acme.io" and created.company.logo_url == "/v1/companies/c1/logo"
    assert isinstance(updated, events_pb2.CompanyUpdated) and list(updated.changed_fields) == ["display_name"]
    assert isinstance(claimed, events_pb2.CompanyClaimRequested)
    assert (claimed.claimant, claimed.claimant_email, claimed.evidence_url) == (
        "users/7",
        "bob@acme.io",
        "https://linkedin.com/in/bob",
    )
    assert isinstance(deleted, events_pb2.CompanyDeleted) and deleted.deleter == "users/1"


def test_claim_decisions_are_mails_and_only_with_an_address() -> None:
    publisher, outbox = _publisher()
    publisher.claim_decided(COMPANY, COMPANY.claim, approved=False, reason="no proof")  # type: ignore[arg-type]
    publisher.claim_decided(COMPANY, Claim("kc-svc"), approved=True)  # no e-mail: nobody to tell
    (row,) = outbox.rows
    assert (row.exchange, row.routing_key, row.external_id) == (
        "mail.exchange.direct",
        "mail_service_queue",
        "mail:company_claim_rejected:bob@acme.io",
    )
    assert isinstance(row.event, mail_pb2.MailRequested)
    assert (row.event.to_name, dict(row.event.variables)) == (
        "Bob",
        {"page_display_name": "Acme", "reason": "no proof"},
    )


def test_member_and_invitation_events() -> None:
    publisher, outbox = _publisher()
    invitation = Invitation(
        "i1", "c1", "bob@acme.io", PageRole.EDITOR, "users/1", "hash", T0, T0 + timedelta(days=7), "Welcome",
    )  # fmt: skip
    publisher.invitation_sent(invitation, "secret-token", "Acme", MEMBER)
    publisher.member_added(MEMBER, invitation)
    publisher.member_updated(MEMBER, PageRole.VIEWER)
    publisher.member_removed(MEMBER, left=True)
    publisher.member_removed_with_page(MEMBER)
    publisher.invitation_changed(invitation.revoke(T0))
    kinds = [type(r.event).__name__ for r in outbox.rows]
    assert kinds == [
        "InvitationSent", "MailRequested", "MemberAdded", "MemberUpdated", "MemberRemoved", "MemberRemoved",
        "InvitationChanged",
    ]  # fmt: skip
    mail = outbox.rows[1].event
    assert isinstance(mail, mail_pb2.MailRequested) and mail.template == "company_invitation"
    link = parse_qs(urlparse(mail.variables["accept_url"]).query)
    assert mail.variables["accept_url"].startswith("https://web.example/accept?")
    assert link == {"invitation": ["companies/c1/invitations/i1"], "token": ["secret-token"]}
    assert (mail.variables["role"], mail.variables["inviter_name"], mail.variables["message"]) == (
        "editor",
        "Bob",
        "Welcome",
    )
    assert not any(b"secret-token" in r.event.SerializeToString() for r in outbox.rows if r is not outbox.rows[1])
    added, updated, left, with_page, changed = (r.event for r in outbox.rows[2:])
    assert isinstance(added, events_pb2.MemberAdded) and added.invitation == "companies/c1/invitations/i1"
    assert outbox.rows[2].external_id == "companies/c1/members/7"
    assert isinstance(updated, events_pb2.MemberUpdated) and updated.previous_role == page_pb2.PAGE_ROLE_VIEWER
    assert isinstance(left, events_pb2.MemberRemoved) and left.reason == events_pb2.MEMBER_REMOVAL_REASON_LEFT
    assert isinstance(with_page, events_pb2.MemberRemoved)
    assert with_page.reason == events_pb2.MEMBER_REMOVAL_REASON_PAGE_DELETED
    assert isinstance(changed, events_pb2.InvitationChanged)
    assert (changed.invitation.state, changed.invitation.page_display_name) == (
        page_pb2.INVITATION_STATE_REVOKED,
        "Acme",
    )

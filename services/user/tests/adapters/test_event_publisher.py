"""What the user service publishes for each change: exchange, routing key, payload, and the mails."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from devinsider.common.v1 import mail_pb2
from devinsider.user.v1 import events_pb2, user_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.testing.outbox import OutboxRow as Row
from devinsider_common.testing.outbox import RecordingOutbox
from user_service.adapters.event_publisher import UserEventPublisher
from user_service.adapters.proto_mapping import user_to_proto
from user_service.domain.blacklist import BlacklistEntry, BlacklistKind
from user_service.domain.model import ContactCategory, Profile, User, UserState
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADA = User(
    id="u1",
    subject="kc-ada",
    email="ada@acme.io",
    profile=Profile(
        given_name="Ada", family_name="Lovelace", phone_number="+33612345678", contact_category=ContactCategory.RESELLER
    ),
    roles=("isv",),
    created_at=NOW,
    updated_at=NOW,
)


def _publisher() -> tuple[UserEventPublisher, RecordingOutbox]:
    outbox = RecordingOutbox()
    return UserEventPublisher(cast(OutboxWriter, outbox)), outbox


def _mail(row: Row) -> tuple[str, str, str, dict[str, Any]]:
    assert (row.exchange, row.routing_key) == (topology.MAIL, topology.direct_routing_key(topology.MAIL))
    mail = cast(mail_pb2.MailRequested, row.event)
    return mail.template, mail.to_email, mail.to_name, dict(mail.variables)


def test_a_new_user_is_announced_in_full_and_welcomed() -> None:
    publisher, outbox = _publisher()
    publisher.user_created(ADA)
    created, welcome = outbox.rows
    assert (created.exchange, created.routing_key, created.external_id) == (
        topology.USER_UPDATES,
        topology.USER_CREATED,
        "users/u1",
    )
    user = cast(events_pb2.UserCreated, created.event).user
    assert (user.subject, user.email, user.phone_number, list(user.roles)) == (
        "kc-ada",
        "ada@acme.io",
        "+33612345678",
        ["isv"],
    )
    assert user.contact_category == user_pb2.CONTACT_CATEGORY_RESELLER and user.state == user_pb2.USER_STATE_ACTIVE
    assert user.create_time.ToDatetime(tzinfo=UTC) == NOW
    assert _mail(welcome) == ("welcome", "ada@acme.io", "Ada Lovelace", {"given_name": "Ada"})


def test_a_user_created_without_a_welcome_is_announced_alone() -> None:
    publisher, outbox = _publisher()
    publisher.user_created(ADA, welcome=False)
    [created] = outbox.rows
    assert created.routing_key == topology.USER_CREATED


def test_the_email_verification_and_last_sign_in_go_to_odoo_and_to_the_user_only() -> None:
    signed_in = replace(ADA, email_verified=True, last_login_at=NOW)
    publisher, outbox = _publisher()
    publisher.user_created(replace(ADA, email=""))  # never signed in: no time
    publisher.user_updated(signed_in, ["last_login_time"])
    never = cast(events_pb2.UserCreated, outbox.rows[0].event).user
    assert not never.HasField("last_login_time") and not never.email_verified
    updated = cast(events_pb2.UserUpdated, outbox.rows[1].event)
    assert updated.user.email_verified and updated.user.last_login_time.ToDatetime(tzinfo=UTC) == NOW
    assert list(updated.changed_fields) == ["last_login_time"]
    public = user_to_proto(signed_in, private=False)
    assert not public.email_verified and not public.HasField("last_login_time")


def test_a_disabling_goes_to_odoo_and_to_the_user_only() -> None:
    disabled = replace(ADA, disabled=True)
    publisher, outbox = _publisher()
    publisher.user_updated(disabled, ["disabled"])
    [row] = outbox.rows
    assert (row.exchange, row.routing_key) == (topology.USER_UPDATES, topology.USER_UPDATED)
    updated = cast(events_pb2.UserUpdated, row.event)
    assert updated.user.disabled and updated.user.state == user_pb2.USER_STATE_ACTIVE
    assert list(updated.changed_fields) == ["disabled"]
    assert not user_to_proto(disabled, private=False).disabled


def test_the_user_events_are_odoos_user_payload() -> None:
    """UserCreated, UserUpdated and UserDeleted reach `odoo_user_queue` (a topic binding `user.*`)."""
    [binding] = [b for b in topology.BINDINGS if b.queue == topology.ODOO_USER_QUEUE]
    assert (binding.exchange, binding.routing_key) == (topology.USER_UPDATES, "user.*")
    for key in (topology.USER_CREATED, topology.USER_UPDATED, topology.USER_DELETED):
        assert key.startswith("user.") and key.count(".") == 1, key


def test_no_mail_is_asked_for_a_user_without_an_email() -> None:
    publisher, outbox = _publisher()
    publisher.user_created(replace(ADA, email=""))
    assert [row.routing_key for row in outbox.rows] == [topology.USER_CREATED]


def test_updates_and_deletions_name_the_user() -> None:
    publisher, outbox = _publisher()
    publisher.user_updated(ADA, ["job_title", "email"])
    publisher.user_deleted(replace(ADA, state=UserState.DELETED))
    updated, deleted = outbox.rows
    assert updated.routing_key == topology.USER_UPDATED
    assert list(cast(events_pb2.UserUpdated, updated.event).changed_fields) == ["job_title", "email"]
    assert (deleted.routing_key, deleted.external_id) == (topology.USER_DELETED, "users/u1")
    assert cast(events_pb2.UserDeleted, deleted.event) == events_pb2.UserDeleted(
        name="users/u1", subject="kc-ada", email="ada@acme.io"
    )


def test_a_pro_verification_goes_to_odoo_and_its_decision_is_mailed() -> None:
    publisher, outbox = _publisher()
    pending = ProVerification(id="p1", user_id="u1", work_email="ada@acme.io", company_name="Acme", created_at=NOW)
    publisher.pro_verification_changed(pending, ADA)
    [to_odoo] = outbox.rows
    assert (to_odoo.exchange, to_odoo.external_id) == (topology.ODOO_VERIFIED_PRO, "proVerifications/p1")
    event = cast(events_pb2.ProVerificationChanged, to_odoo.event)
    assert (event.user_email, event.pro_verification.user) == ("ada@acme.io", "users/u1")
    assert event.pro_verification.state == user_pb2.PRO_VERIFICATION_STATE_PENDING
    assert not event.pro_verification.HasField("decide_time")
    rejected = replace(pending, state=ProVerificationState.REJECTED, decided_at=NOW, rejection_reason="no proof")
    publisher.pro_verification_changed(rejected, ADA)
    decided, mail = outbox.rows[1:]
    assert cast(events_pb2.ProVerificationChanged, decided.event).pro_verification.rejection_reason == "no proof"
    assert _mail(mail) == (
        "pro_verification_rejected",
        "ada@acme.io",
        "Ada Lovelace",
        {"company_name": "Acme", "reason": "no proof"},
    )


def test_a_support_request_goes_to_odoo_and_is_acknowledged() -> None:
    publisher, outbox = _publisher()
    request = SupportRequest(id="s1", user_id="u1", subject="Help", message="Broken", created_at=NOW)
    publisher.support_request_created(request, replace(ADA, profile=Profile()))
    to_odoo, mail = outbox.rows
    assert (to_odoo.exchange, to_odoo.external_id) == (topology.ODOO_CONTACT_SUPPORT, "supportRequests/s1")
    event = cast(events_pb2.SupportRequestCreated, to_odoo.event)
    assert (event.support_request.subject, event.user_display_name) == ("Help", "ada@acme.io")  # no name: the e-mail
    assert _mail(mail) == ("support_request_received", "ada@acme.io", "ada@acme.io", {"subject": "Help"})


def test_blacklist_changes_are_announced() -> None:
    publisher, outbox = _publisher()
    entry = BlacklistEntry("b1", BlacklistKind.EMAIL_DOMAIN, "spam.example", "spam", "kc-staff", NOW)
    publisher.blacklist_changed(entry, removed=True)
    [row] = outbox.rows
    assert (row.routing_key, row.external_id) == (topology.BLACKLIST_CHANGED, "blacklistEntries/b1")
    event = cast(events_pb2.BlacklistChanged, row.event)
    assert event.removed and event.blacklist_entry.kind == user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN

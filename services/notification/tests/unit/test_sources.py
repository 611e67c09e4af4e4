"""Every source of notifications: invitations, applications, billing, contact; and what is not one."""

from __future__ import annotations

import pytest

from devinsider.billing.v1 import billing_pb2
from devinsider.billing.v1 import events_pb2 as billing
from devinsider.company.v1 import events_pb2 as company
from devinsider.matching.v1 import events_pb2 as matching
from devinsider.program.v1 import program_pb2
from devinsider_common.consumer import Delivery, PermanentFailure
from devinsider_common.pages.roles import PageRole
from notification_service.domain.preferences import Category

from .. import events
from ..harness import World

ACME, FUND, CLOUD = "companies/acme", "investors/fund", "programs/cloud"


@pytest.fixture
def pages(world: World) -> World:
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.member(ACME, "bob", PageRole.VIEWER))
    world.deliver(events.member(FUND, "vic"))
    world.deliver(events.member(FUND, "eve", PageRole.EDITOR))
    world.deliver(events.member(CLOUD, "pat"))
    return world


# -- invitations ---------------------------------------------------------------------------------------------
def test_an_invitation_to_a_known_user_shows_in_the_app_and_sends_no_second_mail(pages: World) -> None:
    pages.deliver(events.user_created("zoe", "zoe@example.com"))
    pages.deliver(events.invitation_sent(ACME, "Zoe@Example.com", "Acme Analytics"))
    [invited] = pages.inbox("zoe")
    assert (invited.category, invited.kind, invited.page) == (Category.INVITATIONS, "invitation.received", "")
    assert invited.title == "You are invited to join Acme Analytics"
    assert invited.params["role"] == "editor" and invited.resource == f"{ACME}/invitations/i-Zoe"
    assert pages.mails() == []  # the page service mails the link


def test_an_invitation_to_an_unknown_address_tells_nobody(pages: World) -> None:
    assert pages.deliver(events.invitation_sent(ACME, "stranger@example.com"))
    assert pages.store.tables.get("notifications", {}) == {}


# -- applications --------------------------------------------------------------------------------------------
def test_a_new_or_withdrawn_application_tells_the_program_a_decision_tells_the_company(pages: World) -> None:
    pages.deliver(events.application(CLOUD, ACME, program_pb2.APPLICATION_STATE_PENDING))
    [received] = pages.inbox("pat")
    assert (received.kind, received.title, received.page) == (
        "application.received",
        "Acme applied to Cloud Partners",
        CLOUD,
    )
    pages.deliver(events.application(CLOUD, ACME, program_pb2.APPLICATION_STATE_REJECTED, reason="Too early"))
    for user in ("ada", "bob"):
        [rejected] = pages.inbox(user)
        assert (rejected.kind, rejected.category) == ("application.rejected", Category.APPLICATIONS)
        assert rejected.title == "Cloud Partners declined the application of Acme"
        assert rejected.body == "Reason: Too early"
    pages.deliver(events.application(CLOUD, ACME, program_pb2.APPLICATION_STATE_WITHDRAWN))
    assert [n.kind for n in pages.inbox("pat")] == ["application.withdrawn", "application.received"]
    assert pages.mails() == []  # the program service mails both sides


# -- billing -------------------------------------------------------------------------------------------------
def test_a_refused_payment_and_a_renewal_tell_the_page_managers_in_the_app(pages: World) -> None:
    pages.deliver(events.payment_failed(FUND))
    pages.deliver(events.renewal(FUND))
    assert [n.kind for n in pages.inbox("vic")] == ["billing.subscription_renewed", "billing.payment_failed"]
    assert pages.inbox("vic")[0].params["amount"] == "99.00 EUR"
    assert pages.inbox("eve") == []  # an editor does not manage billing
    assert pages.mails() == []  # billing mails the buyer itself


def test_a_checkout_payment_is_no_renewal(pages: World) -> None:
    paid = events.renewal(FUND)
    assert isinstance(paid, billing.PaymentSucceeded)
    paid.checkout = f"{FUND}/checkouts/c1"
    assert not pages.deliver(paid)
    assert pages.inbox("vic") == []


def test_a_subscription_that_will_not_renew_or_has_ended_is_mailed_to_the_managers(pages: World) -> None:
    active, canceled = billing_pb2.SUBSCRIPTION_STATE_ACTIVE, billing_pb2.SUBSCRIPTION_STATE_CANCELED
    pages.deliver(events.subscription_changed(FUND, active, active, cancel_at_period_end=True))
    pages.deliver(events.subscription_changed(FUND, active, active, cancel_at_period_end=True))  # said again
    pages.deliver(events.subscription_changed(FUND, active, 0))  # created: nothing to say
    pages.deliver(events.subscription_changed(FUND, canceled, active))
    titles = [n.title for n in pages.inbox("vic")]
    assert titles == [
        "The subscription of an investor page has ended",
        "The subscription of an investor page ends on 2026-04-30",
    ]
    assert [m.template for m in pages.mails()] == [
        "notification_subscription_ending",
        "notification_subscription_ended",
    ]
    assert pages.mails()[0].variables["end_date"] == "2026-04-30"


# -- contact -------------------------------------------------------------------------------------------------
def test_a_contact_request_tells_the_addressed_page_and_its_answer_the_sender(pages: World) -> None:
    pages.deliver(events.contact_request(FUND, ACME))
    [request] = pages.inbox("ada")
    assert (request.category, request.kind) == (Category.CONTACT, "contact.request_received")
    assert (request.title, request.body) == ("Blue Fund wants to get in touch with Acme", "We would like to talk.")
    [mail] = [m for m in pages.mails() if m.to_email == "ada@example.com"]
    assert mail.template == "notification_contact_request_received"
    assert mail.variables["link"] == f"http://localhost:3000/{FUND}/contactRequests/r1"
    pages.deliver(events.contact_accepted(FUND, ACME))
    assert [n.kind for n in pages.inbox("vic")] == ["contact.request_accepted"]
    assert pages.inbox("vic")[0].resource == "conversations/v1"
    pages.deliver(events.contact_declined(FUND, ACME))
    assert pages.inbox("vic")[0].body == "Reason: Not now"
    pages.deliver(events.contact_withdrawn(FUND, ACME))
    assert pages.inbox("ada")[0].title == "Blue Fund withdrew its contact request"
    assert {m.template for m in pages.mails() if m.to_email == "vic@example.com"} == {
        "notification_contact_request_accepted",
        "notification_contact_request_declined",
    }


def test_a_message_shows_to_every_member_and_is_mailed_to_the_page_contact_person(pages: World) -> None:
    pages.deliver(events.contact_message(FUND, ACME, contact_user="bob"))
    assert len(pages.inbox("ada")) == 1 and len(pages.inbox("bob")) == 1
    assert [m.to_email for m in pages.mails()] == ["bob@example.com"]
    pages.deliver(events.contact_message(FUND, CLOUD))  # no contact person: every member
    assert [m.to_email for m in pages.mails()][1:] == ["pat@example.com"]


# -- what is not a notification ------------------------------------------------------------------------------
def test_events_that_tell_nothing_are_acknowledged_without_effect(pages: World) -> None:
    assert not pages.deliver(company.CompanyClaimRequested(claimant="kc-x"))
    assert not pages.deliver(billing.EntitlementsChanged())
    assert not pages.deliver(matching.BlockCreated(parent=ACME))
    assert pages.store.tables.get("notifications", {}) == {}


def test_an_event_that_cannot_be_read_is_dead_lettered(world: World) -> None:
    broken = events.unlock(FUND, ACME)
    assert isinstance(broken, billing.UnlockCreated)
    broken.unlock.target.name = "nothing/here"
    with pytest.raises(PermanentFailure):
        world.deliver(broken)
    wrapped = events.envelope(events.member(ACME, "ada"))
    wrapped.event_type = "devinsider.billing.v1.UnlockCreated"
    wrapped.payload.type_url = "type.googleapis.com/devinsider.billing.v1.UnlockCreated"  # another payload
    with pytest.raises(PermanentFailure):
        world.app.consumer(Delivery("notification.test", "m-bad", wrapped, 1))

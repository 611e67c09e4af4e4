"""Unlocks: the target page's members are told in the app and by mail, once per unlock; the unlocking
page's managers learn when its credits run low. Preferences decide per category and channel."""

from __future__ import annotations

from devinsider_common.pages.roles import PageRole
from notification_service.domain.preferences import Category, PreferenceChanges

from .. import events
from ..harness import World

ACME, FUND = "companies/acme", "investors/fund"


def _pages(world: World) -> None:
    world.deliver(events.page_created(ACME, "Acme Analytics"))
    world.deliver(events.page_created(FUND, "Blue Fund"))
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.member(ACME, "bob", PageRole.VIEWER))
    world.deliver(events.member(FUND, "vic"))


def test_an_unlock_tells_every_member_of_the_target_page_in_the_app_and_by_mail(world: World) -> None:
    _pages(world)
    assert world.deliver(events.unlock(FUND, ACME))
    for user in ("ada", "bob"):
        [notification] = world.inbox(user)
        assert (notification.category, notification.kind) == (Category.UNLOCKS, "unlock.received")
        assert notification.title == "Blue Fund unlocked Acme Analytics"
        assert (notification.page, notification.resource, notification.read) == (ACME, FUND, False)
        assert world.unread(user) == 1
    assert world.inbox("vic") == []  # the unlocking page is not told (it has credits to spare)
    mails = world.mails("notification_unlock_received")
    assert sorted(m.to_email for m in mails) == ["ada@example.com", "bob@example.com"]
    assert {m.locale for m in mails} == {"en"}
    assert mails[0].variables["unlocker_display_name"] == "Blue Fund"
    assert mails[0].variables["link"] == "http://localhost:3000/investors/fund"
    assert mails[0].variables["preferences_url"] == "http://localhost:3000/settings/notifications"


def test_the_same_unlock_told_twice_tells_nobody_twice(world: World) -> None:
    _pages(world)
    assert world.deliver(events.unlock(FUND, ACME), message_id="m-unlock")
    assert not world.deliver(events.unlock(FUND, ACME), message_id="m-unlock")  # a redelivery: the inbox
    assert world.deliver(events.unlock(FUND, ACME), message_id="m-republished")  # a new message, same unlock
    assert len(world.inbox("ada")) == 1 and len(world.mails()) == 2


def test_preferences_turn_the_app_or_the_mail_off_per_category(world: World) -> None:
    _pages(world)
    mail_off = PreferenceChanges(channels={"unlocks.mail": False})
    world.app.preferences.update(world.caller("ada"), "me", mail_off, frozenset({"unlocks.mail"}))
    app_off = PreferenceChanges(channels={"unlocks.in_app": False})
    world.app.preferences.update(world.caller("bob"), "me", app_off, frozenset({"unlocks.in_app"}))
    world.deliver(events.unlock(FUND, ACME))
    assert len(world.inbox("ada")) == 1 and world.inbox("bob") == []
    assert [m.to_email for m in world.mails()] == ["bob@example.com"]


def test_the_mail_takes_the_locale_of_the_preferences(world: World) -> None:
    _pages(world)
    world.app.preferences.update(world.caller("ada"), "me", PreferenceChanges(locale="fr-CA"), frozenset({"locale"}))
    world.deliver(events.unlock(FUND, ACME))
    assert {m.to_email: m.locale for m in world.mails()} == {"ada@example.com": "fr-CA", "bob@example.com": "en"}


def test_an_unlock_leaving_few_credits_tells_the_unlocking_page_managers(world: World) -> None:
    _pages(world)
    world.deliver(events.member(FUND, "eve", PageRole.EDITOR))
    world.deliver(events.member(FUND, "adm", PageRole.ADMIN))
    world.deliver(events.unlock(FUND, ACME, "u1", balance=5))
    assert world.inbox("vic") == []
    world.deliver(events.unlock(FUND, ACME, "u2", balance=1))
    for manager in ("vic", "adm"):
        [low] = world.inbox(manager)
        assert (low.category, low.kind, low.params["balance"]) == (Category.BILLING, "billing.credits_low", "1")
    assert world.inbox("eve") == []
    assert sorted(m.to_email for m in world.mails("notification_credits_low")) == [
        "adm@example.com",
        "vic@example.com",
    ]


def test_without_a_known_title_a_page_is_named_by_its_kind(world: World) -> None:
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.unlock(FUND, ACME))
    assert world.inbox("ada")[0].title == "an investor page unlocked a company page"

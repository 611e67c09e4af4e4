"""Who is told: the members of a page as its service's member events say (the newest event wins), with
the address the user service knows best; a deleted account is erased."""

from __future__ import annotations

from datetime import timedelta

from devinsider_common.pages.roles import PageRole
from notification_service.domain.preferences import PreferenceChanges

from .. import events
from ..harness import World

ACME, FUND = "companies/acme", "investors/fund"


def _recipients(world: World, page: str) -> list[str]:
    with world.uow(read_only=True) as uow:
        return [m.member for m in uow.memberships.members_of(page)]


def test_members_come_and_go_as_their_events_say(world: World) -> None:
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.member(ACME, "bob", PageRole.VIEWER))
    world.deliver(events.member(ACME, "bob", removed=True))
    assert _recipients(world, ACME) == ["ada"]
    with world.uow(read_only=True) as uow:
        assert uow.memberships.of_member("bob") == []


def test_an_older_event_changes_nothing(world: World) -> None:
    now = world.clock()
    world.deliver(events.member(ACME, "bob", removed=True), at=now)
    world.deliver(events.member(ACME, "bob"), at=now - timedelta(seconds=5))  # a retry overtaken by the removal
    assert _recipients(world, ACME) == []


def test_the_user_service_address_wins_over_the_one_recorded_with_the_membership(world: World) -> None:
    world.deliver(events.member(ACME, "ada", email="old@example.com"))
    world.deliver(events.user_created("ada", "ada.new@example.com", given_name="Ada"))
    world.deliver(events.unlock(FUND, ACME))
    [mail] = world.mails()
    assert (mail.to_email, mail.to_name) == ("ada.new@example.com", "Ada Tester")


def test_a_deleted_account_is_erased_and_told_nothing_more(world: World) -> None:
    world.deliver(events.user_created("ada"))
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.member(ACME, "bob"))
    world.app.preferences.update(world.caller("ada"), "me", PreferenceChanges(locale="fr"), frozenset({"locale"}))
    world.deliver(events.match_found(ACME, FUND))
    world.deliver(events.unlock(FUND, ACME))
    assert len(world.inbox("ada")) == 2
    world.deliver(events.user_created("ada", deleted=True))
    tables = world.store.tables
    assert not any(n.recipient == "ada" for n in tables["notifications"].values())
    assert not any(key[0] == "ada" for key in tables["deliveries"])
    assert not any(key[0] == "ada" for key in tables["digest_items"])
    assert "ada" not in tables["preferences"] and "ada" not in tables["known_users"]
    assert _recipients(world, ACME) == ["bob"]
    world.deliver(events.unlock(FUND, ACME, "u2"))
    assert world.inbox("ada") == [] and len(world.inbox("bob")) == 3


def test_a_page_title_follows_its_page_events(world: World) -> None:
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.page_created(FUND, "Blue Fund"))
    world.deliver(events.unlock(FUND, ACME, "u1"))
    world.deliver(events.page_created(FUND, "Blue Fund II"))
    world.deliver(events.unlock(FUND, ACME, "u2"))
    assert [n.title.split(" unlocked")[0] for n in world.inbox("ada")] == ["Blue Fund II", "Blue Fund"]

"""The in-app list: newest first, filters, pages, the unread count; marking read; only the caller's own."""

from __future__ import annotations

import pytest

from devinsider.program.v1 import program_pb2
from devinsider_common import errors
from notification_service.domain.preferences import Category

from .. import events
from ..harness import World

ACME, FUND, CLOUD = "companies/acme", "investors/fund", "programs/cloud"


@pytest.fixture
def five(world: World) -> World:
    """Ada has five notifications: three unlocks (oldest first), an application decision, a match."""
    world.deliver(events.member(ACME, "ada"))
    for n in range(3):
        world.deliver(events.unlock(FUND, ACME, f"u{n}"))
    world.deliver(events.application(CLOUD, ACME, program_pb2.APPLICATION_STATE_APPROVED))
    world.deliver(events.match_found(ACME, FUND))
    return world


def test_the_list_is_newest_first_in_pages_with_the_unread_count(five: World) -> None:
    ada = five.caller("ada")
    first = five.app.notifications.list(ada, "me", 2, "", False, None)
    assert [n.kind for n in first.items] == ["match.found", "application.approved"]
    assert first.unread_count == 5 and first.next_page_token
    second = five.app.notifications.list(ada, "me", 2, first.next_page_token, False, None)
    third = five.app.notifications.list(ada, "me", 2, second.next_page_token, False, None)
    assert [n.kind for n in second.items + third.items] == ["unlock.received"] * 3 and not third.next_page_token
    assert five.app.notifications.list(ada, "ada", 50, "", False, None).items == five.inbox("ada")  # its own id


def test_filters_by_category_and_unread(five: World) -> None:
    unlocks = five.inbox("ada", category=Category.UNLOCKS)
    assert len(unlocks) == 3
    five.app.notifications.mark_read(five.caller("ada"), "me", unlocks[0].id)
    assert len(five.inbox("ada", unread_only=True)) == 4
    assert len(five.inbox("ada", unread_only=True, category=Category.UNLOCKS)) == 2


def test_marking_read_is_idempotent_and_keeps_the_first_time(five: World) -> None:
    ada, [newest, *_] = five.caller("ada"), five.inbox("ada")
    read = five.app.notifications.mark_read(ada, "me", newest.id)
    five.clock.advance(minutes=5)
    again = five.app.notifications.mark_read(ada, "me", newest.id)
    assert read.read and again.read_at == read.read_at and five.unread(ada.subject.removeprefix("kc-")) == 4
    assert five.app.notifications.get(ada, "me", newest.id).read_at == read.read_at


def test_mark_all_read_by_category_and_up_to_what_the_client_saw(five: World) -> None:
    ada = five.caller("ada")
    unlocks = five.inbox("ada", category=Category.UNLOCKS)  # newest first
    assert five.app.notifications.mark_all_read(ada, "me", Category.UNLOCKS, unlocks[1].id) == (2, 3)
    assert five.app.notifications.mark_all_read(ada, "me", None, None) == (3, 0)
    assert five.app.notifications.mark_all_read(ada, "me", None, None) == (0, 0)


def test_a_user_reaches_only_their_own_notifications(five: World) -> None:
    newest = five.inbox("ada")[0]
    for caller in (five.caller("bob"), five.caller("svc", roles=("service",))):
        with pytest.raises(errors.PermissionDenied) as refused:
            five.app.notifications.list(caller, "ada", 10, "", False, None)
        assert refused.value.reason == "NOT_YOUR_USER"
        with pytest.raises(errors.PermissionDenied):
            five.app.notifications.mark_read(caller, "ada", newest.id)
    assert five.app.notifications.list(five.caller("bob"), "me", 10, "", False, None).items == []
    with pytest.raises(errors.NotFound) as missing:  # Ada's notification is no notification of Bob's
        five.app.notifications.get(five.caller("bob"), "me", newest.id)
    assert missing.value.reason == "NOTIFICATION_NOT_FOUND"


def test_a_page_token_is_for_its_filters(five: World) -> None:
    ada = five.caller("ada")
    token = five.app.notifications.list(ada, "me", 1, "", False, None).next_page_token
    with pytest.raises(errors.InvalidArgument):
        five.app.notifications.list(ada, "me", 1, token, True, None)

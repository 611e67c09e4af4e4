"""Matches: shown one by one in the app, mailed as one digest per user and period (daily by default,
weekly or off as the user says), never a mail per match. The clock is the test's."""

from __future__ import annotations

import pytest

from notification_service.domain.preferences import Category, DigestFrequency, PreferenceChanges

from .. import events
from ..harness import World

ACME, FUND, CLOUD = "companies/acme", "investors/fund", "programs/cloud"


@pytest.fixture
def matched(world: World) -> World:
    """Two matches of Acme (Ada's) on Tuesday 10:00, after that day's digest time (08:00)."""
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.member(FUND, "vic"))
    world.deliver(events.match_found(ACME, FUND, 91.2, ("Acme", "Blue Fund")))
    world.deliver(events.match_found(ACME, CLOUD, 82.0, ("Acme", "Cloud Partners")))
    return world


def test_each_match_shows_in_the_app_of_both_sides_and_no_mail_goes_at_once(matched: World) -> None:
    assert [n.title for n in matched.inbox("ada")] == [
        "New match for Acme: Cloud Partners",
        "New match for Acme: Blue Fund",
    ]
    [vic] = matched.inbox("vic")
    assert (vic.category, vic.kind, vic.resource, vic.params["score"]) == (Category.MATCHES, "match.found", ACME, "91")
    assert matched.mails() == []


def test_the_daily_digest_mails_one_mail_for_two_matches_once(matched: World) -> None:
    assert matched.app.digests.run() == 0  # found after today's digest time: tomorrow's digest
    matched.clock.advance(hours=22, minutes=5)  # Wednesday 08:05
    assert matched.app.digests.run() == 2  # Ada's and Vic's
    [mail] = matched.mails(template="notification_match_digest")[:1]
    assert (mail.to_email, mail.variables["match_count"], mail.variables["period"]) == ("ada@example.com", "2", "daily")
    assert '"match_display_name":"Blue Fund"' in mail.variables["matches"]
    assert mail.variables["matches"].index("Blue Fund") < mail.variables["matches"].index("Cloud Partners")
    assert matched.app.digests.run() == 0  # the same period: nothing left
    matched.clock.advance(days=1)
    assert matched.app.digests.run() == 0 and len(matched.mails()) == 2


def test_a_weekly_digest_waits_for_monday(matched: World) -> None:
    weekly = PreferenceChanges(match_digest=DigestFrequency.WEEKLY)
    matched.app.preferences.update(matched.caller("ada"), "me", weekly, frozenset({"match_digest_frequency"}))
    matched.clock.advance(hours=22, minutes=5)  # Wednesday 08:05: Vic's daily digest only
    matched.app.digests.run()
    assert [m.to_email for m in matched.mails()] == ["vic@example.com"]
    matched.clock.advance(days=5)  # Monday 08:05
    matched.app.digests.run()
    assert [m.to_email for m in matched.mails()] == ["vic@example.com", "ada@example.com"]
    assert matched.mails()[-1].variables["period"] == "weekly"


def test_no_digest_when_it_is_off_or_matches_are_not_mailed(world: World) -> None:
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.member(FUND, "vic"))
    off = PreferenceChanges(match_digest=DigestFrequency.OFF)
    world.app.preferences.update(world.caller("ada"), "me", off, frozenset({"match_digest_frequency"}))
    no_mail = PreferenceChanges(channels={"matches.mail": False})
    world.app.preferences.update(world.caller("vic"), "me", no_mail, frozenset({"matches.mail"}))
    world.deliver(events.match_found(ACME, FUND))
    assert len(world.inbox("ada")) == 1 and len(world.inbox("vic")) == 1  # still in the app
    world.clock.advance(days=1)
    assert world.app.digests.run() == 0 and world.mails() == []


def test_what_waits_is_dropped_when_the_digest_is_turned_off(matched: World) -> None:
    off = PreferenceChanges(match_digest=DigestFrequency.OFF)
    matched.app.preferences.update(matched.caller("ada"), "me", off, frozenset({"match_digest_frequency"}))
    matched.clock.advance(days=1)
    matched.app.digests.run()
    assert [m.to_email for m in matched.mails()] == ["vic@example.com"]
    assert not any(key[0] == "ada" for key in matched.store.tables["digest_items"])


def test_matches_off_in_the_app_still_reach_the_digest(world: World) -> None:
    world.deliver(events.member(ACME, "ada"))
    hidden = PreferenceChanges(channels={"matches.in_app": False})
    world.app.preferences.update(world.caller("ada"), "me", hidden, frozenset({"matches.in_app"}))
    world.deliver(events.match_found(ACME, FUND))
    assert world.inbox("ada") == []
    world.clock.advance(days=1)
    assert world.app.digests.run() == 1


def test_old_notifications_are_deleted_after_the_retention(world: World) -> None:
    world.deliver(events.member(ACME, "ada"))
    world.deliver(events.unlock(FUND, ACME, "u1"))
    world.clock.advance(days=181)
    world.deliver(events.unlock(FUND, ACME, "u2"))
    assert world.app.retention.run() == 1
    assert [n.params["unlock"] for n in world.inbox("ada")] == [f"{FUND}/unlocks/u2"]

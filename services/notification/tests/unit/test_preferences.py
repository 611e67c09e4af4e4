"""Preferences: the defaults until changed, per category and channel by update mask, the digest, the locale."""

from __future__ import annotations

import pytest

from devinsider_common import errors
from notification_service.domain.preferences import (
    CHANNEL_PATHS,
    PATHS,
    Category,
    Channels,
    DigestFrequency,
    PreferenceChanges,
)

from ..harness import World


def test_the_defaults_until_a_change(world: World) -> None:
    found = world.app.preferences.get(world.caller("ada"), "me")
    assert found.name == "users/ada/notificationPreferences" and found.updated_at is None
    assert all(found.channel(c) == Channels(True, True) for c in Category)
    assert (found.match_digest, found.locale, found.digest_on) == (DigestFrequency.DAILY, "en", True)


def test_only_the_named_fields_change(world: World) -> None:
    ada = world.caller("ada")
    changes = PreferenceChanges(channels={"billing.mail": False, "contact.in_app": False}, locale="de")
    saved = world.app.preferences.update(ada, "me", changes, frozenset({"billing.mail"}))
    assert saved.channel(Category.BILLING) == Channels(True, False)
    assert saved.channel(Category.CONTACT) == Channels(True, True) and saved.locale == "en"
    assert world.app.preferences.get(ada, "ada") == saved and saved.updated_at == world.clock()


def test_a_named_field_left_unset_takes_its_default(world: World) -> None:
    ada = world.caller("ada")
    off = PreferenceChanges(channels={p: False for p in CHANNEL_PATHS}, match_digest=DigestFrequency.OFF, locale="fr")
    world.app.preferences.update(ada, "me", off, frozenset(PATHS))
    reset = world.app.preferences.update(ada, "me", PreferenceChanges(), frozenset(PATHS))  # `*` with an empty body
    assert all(reset.channel(c) == Channels() for c in Category)
    assert (reset.match_digest, reset.locale) == (DigestFrequency.DAILY, "en")


@pytest.mark.parametrize("locale", ["english please", "x", "fr_FR_", "a" * 40])
def test_a_locale_must_be_a_language_tag(world: World, locale: str) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        world.app.preferences.update(world.caller("ada"), "me", PreferenceChanges(locale=locale), frozenset({"locale"}))
    assert refused.value.violations[0].field == "notification_preferences.locale"


def test_only_the_caller_changes_their_preferences(world: World) -> None:
    with pytest.raises(errors.PermissionDenied):
        world.app.preferences.update(world.caller("bob"), "ada", PreferenceChanges(), frozenset({"locale"}))
    with pytest.raises(errors.InvalidArgument):
        world.app.preferences.get(world.caller("bob"), "not an id")

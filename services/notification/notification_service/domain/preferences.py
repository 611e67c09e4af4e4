"""A user's notification preferences: per category, whether it shows in the app and whether it is
mailed; how often new matches are mailed as a digest; the locale of the mails."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from devinsider_common import errors


class Category(enum.IntEnum):
    """Values match devinsider.notification.v1.NotificationCategory."""

    MATCHES = 1
    UNLOCKS = 2
    CONTACT = 3
    INVITATIONS = 4
    APPLICATIONS = 5
    BILLING = 6

    @property
    def key(self) -> str:
        """The category's field in NotificationPreferences (`matches`, `unlocks`...)."""
        return self.name.lower()


class DigestFrequency(enum.IntEnum):
    """Values match devinsider.notification.v1.DigestFrequency."""

    OFF = 1
    DAILY = 2
    WEEKLY = 3


CHANNELS = ("in_app", "mail")
# The update mask paths of UpdateNotificationPreferences.
CHANNEL_PATHS = tuple(f"{category.key}.{channel}" for category in Category for channel in CHANNELS)
PATHS = (*CHANNEL_PATHS, "match_digest_frequency", "locale")
DEFAULT_LOCALE = "en"
# BCP 47, as mail templates are looked up by it (`fr`, `fr-CA`, `zh-Hant-TW`).
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")


@dataclass(frozen=True)
class Channels:
    in_app: bool = True
    mail: bool = True


def _defaults() -> Mapping[Category, Channels]:
    return MappingProxyType({category: Channels() for category in Category})


@dataclass(frozen=True)
class Preferences:
    user: str  # the user's id (`users/{id}`)
    channels: Mapping[Category, Channels] = field(default_factory=_defaults)
    match_digest: DigestFrequency = DigestFrequency.DAILY
    locale: str = DEFAULT_LOCALE
    updated_at: datetime | None = None  # None: the defaults, never changed

    @property
    def name(self) -> str:
        return f"users/{self.user}/notificationPreferences"

    def channel(self, category: Category) -> Channels:
        return self.channels.get(category, Channels())

    @property
    def digest_on(self) -> bool:
        """Whether new matches are collected for a digest mail."""
        return self.channel(Category.MATCHES).mail and self.match_digest is not DigestFrequency.OFF


@dataclass(frozen=True)
class PreferenceChanges:
    """The values of an update; None where the request left a field unset (its default then applies
    to a path the mask names)."""

    channels: Mapping[str, bool | None] = field(default_factory=dict)  # `matches.mail` -> value
    match_digest: DigestFrequency | None = None
    locale: str = ""


def check_locale(locale: str, path: str) -> None:
    if locale and (len(locale) > 35 or not _LOCALE.match(locale)):
        raise errors.InvalidArgument.for_field(path, "must be a BCP 47 language tag, like `en` or `fr-CA`")


def updated(current: Preferences, changes: PreferenceChanges, paths: frozenset[str], now: datetime) -> Preferences:
    """`current` with the fields named by `paths` taken from `changes` (AIP-134: a named field left unset
    takes its default: channels on, the daily digest, English)."""
    unknown = paths - set(PATHS)
    if unknown:
        raise errors.InvalidArgument.for_field("update_mask", f"cannot update {sorted(unknown)}")
    channels = dict(current.channels)
    for path in paths & set(CHANNEL_PATHS):
        key, _, channel = path.partition(".")
        category = Category[key.upper()]
        value = changes.channels.get(path)
        channels[category] = replace(channels.get(category, Channels()), **{channel: True if value is None else value})
    result = replace(current, channels=MappingProxyType(channels), updated_at=now)
    if "match_digest_frequency" in paths:
        result = replace(result, match_digest=changes.match_digest or DigestFrequency.DAILY)
    if "locale" in paths:
        check_locale(changes.locale, "notification_preferences.locale")
        result = replace(result, locale=changes.locale or DEFAULT_LOCALE)
    return result

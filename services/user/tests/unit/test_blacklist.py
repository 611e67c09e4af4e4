"""The blacklist and the platform access rule (use cases and the cached guard), without I/O."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest

from devinsider_common import errors
from devinsider_common.cache import InMemoryCache
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import principal
from user_service.domain.blacklist import AccessDecision, BlacklistKind
from user_service.domain.model import UserState
from user_service.service_layer.blacklist import CachedAccessGuard

from ..fakes import Published, World, published, world

ADMIN = principal("kc-staff", roles=("admin",))
DOMAIN, USER = BlacklistKind.EMAIL_DOMAIN, BlacklistKind.USER


@pytest.fixture
def w() -> World:
    return world()


def test_an_entry_is_normalised_stored_and_announced(w: World) -> None:
    entry = w.app.blacklist.create(ADMIN, DOMAIN, "  Spam.Example ", " spam ")
    assert (entry.value, entry.reason, entry.creator, entry.created_at) == (
        "spam.example",
        "spam",
        "kc-staff",
        w.clock.now,
    )
    assert w.committed("blacklist") == [entry]
    assert published(w.store) == [Published("blacklist_changed", entry.name, False)]
    assert w.app.blacklist.create(ADMIN, USER, " Kc-Mixed ", "").value == "Kc-Mixed"  # subjects keep their case


@pytest.mark.parametrize(
    ("kind", "value", "reason", "fields"),
    [
        (DOMAIN, "not a domain", "", ["blacklist_entry.value"]),
        (USER, " ", "", ["blacklist_entry.value"]),
        (USER, "kc-x", "r" * 501, ["blacklist_entry.reason"]),
    ],
)
def test_invalid_entries_name_their_field(
    w: World, kind: BlacklistKind, value: str, reason: str, fields: list[str]
) -> None:
    refused = failure(lambda: w.app.blacklist.create(ADMIN, kind, value, reason))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, fields)
    assert w.committed("blacklist") == []


def test_an_entry_exists_once_even_when_two_admins_race(w: World) -> None:
    w.app.blacklist.create(ADMIN, DOMAIN, "spam.example", "")
    already = Failure(grpc.StatusCode.ALREADY_EXISTS, "ALREADY_BLACKLISTED")
    assert failure(lambda: w.app.blacklist.create(ADMIN, DOMAIN, "SPAM.example", "")) == already
    w.store.racers["blacklist"] = lambda: w.app.blacklist.create(
        principal("kc-other", roles=("admin",)), USER, "kc-x", ""
    )
    assert failure(lambda: w.app.blacklist.create(ADMIN, USER, "kc-x", "")) == already
    assert sorted(e.creator for e in w.committed("blacklist")) == ["kc-other", "kc-staff"]


def test_delete_removes_and_announces_and_an_unknown_entry_is_not_found(w: World) -> None:
    entry = w.app.blacklist.create(ADMIN, USER, "kc-x", "")
    w.app.blacklist.delete(entry.id)
    assert w.committed("blacklist") == [] and published(w.store)[-1] == Published("blacklist_changed", entry.name, True)
    assert failure(lambda: w.app.blacklist.delete(entry.id)) == Failure(
        grpc.StatusCode.NOT_FOUND, "BLACKLIST_ENTRY_NOT_FOUND"
    )


def test_list_blacklist_entries_by_kind_in_windows(w: World) -> None:
    users = sorted((w.app.blacklist.create(ADMIN, USER, f"kc-{i}", "") for i in range(3)), key=lambda e: e.id)
    domain = w.app.blacklist.create(ADMIN, DOMAIN, "spam.example", "")
    first, token = w.app.blacklist.list_blacklist_entries(2, "", USER)
    rest, last = w.app.blacklist.list_blacklist_entries(2, token, USER)
    assert first + rest == users and last == ""
    assert w.app.blacklist.list_blacklist_entries(0, "", None)[0] == sorted([*users, domain], key=lambda e: e.id)
    assert failure(lambda: w.app.blacklist.list_blacklist_entries(2, token, DOMAIN)).fields == ["page_token"]


def test_the_access_rule_reads_the_user_and_the_blacklist(w: World) -> None:
    ada = w.app.users.me(principal("kc-ada", email="ada@mail.spam.example"))
    assert w.app.blacklist.check_access("kc-ada", "") == AccessDecision(True, "", ada.name)
    assert w.app.blacklist.check_access("kc-stranger", "s@ok.io") == AccessDecision(True)  # no user yet
    w.app.blacklist.create(ADMIN, DOMAIN, "spam.example", "")
    # Without an e-mail in the question, the user's own is checked (subdomains too).
    assert w.app.blacklist.check_access("kc-ada", "") == AccessDecision(False, "BLACKLISTED_DOMAIN", ada.name)
    assert w.app.blacklist.check_access("kc-ada", "ada@ok.io").allowed  # the token's e-mail wins
    w.app.blacklist.create(ADMIN, USER, "kc-ada", "")
    assert w.app.blacklist.check_access("kc-ada", "ada@ok.io").reason == "BLACKLISTED_USER"
    with w.uow() as uow:
        uow.users.save(replace(ada, state=UserState.DELETED))
        uow.commit()
    assert w.app.blacklist.check_access("kc-ada", "ada@ok.io").reason == "DELETED"
    assert published(w.store, "user_updated") == []  # reading the rule writes nothing


class CountingBlacklist:
    """The use cases' check_access, counting how often the guard asks."""

    def __init__(self, w: World) -> None:
        self._w = w
        self.calls = 0

    def check_access(self, subject: str, email: str) -> AccessDecision:
        self.calls += 1
        return self._w.app.blacklist.check_access(subject, email)


def test_the_guard_reuses_an_answer_within_its_ttl_per_subject_and_email(w: World) -> None:
    asked = CountingBlacklist(w)
    guard = CachedAccessGuard(asked, InMemoryCache(), ttl_seconds=60)  # type: ignore[arg-type]
    mallory = principal("kc-mallory", email="M@spam.example")
    guard.check(mallory)
    w.app.blacklist.create(ADMIN, DOMAIN, "spam.example", "")
    guard.check(mallory)  # the cached answer holds until the TTL
    assert asked.calls == 1
    with pytest.raises(errors.PermissionDenied) as refused:  # another e-mail is another question
        guard.check(principal("kc-mallory", email="m2@spam.example"))
    assert refused.value.reason == "BLACKLISTED_DOMAIN"
    with pytest.raises(errors.PermissionDenied) as cached:  # a refusal is cached too
        guard.check(principal("kc-mallory", email="m2@spam.example"))
    assert cached.value.reason == "BLACKLISTED_DOMAIN" and asked.calls == 2


def test_the_guard_asks_every_time_without_a_ttl(w: World) -> None:
    asked = CountingBlacklist(w)
    cache = InMemoryCache()
    guard = CachedAccessGuard(asked, cache, ttl_seconds=0)  # type: ignore[arg-type]
    guard.check(principal("kc-x", email="x@ok.io"))
    w.app.blacklist.create(ADMIN, USER, "kc-x", "")
    with pytest.raises(errors.PermissionDenied) as refused:
        guard.check(principal("kc-x", email="x@ok.io"))
    assert refused.value.reason == "BLACKLISTED_USER" and asked.calls == 2
    assert cache.get("access", "kc-x|x@ok.io") is None

"""Keycloak's admin API as the reconciliation reads it, against a fake Keycloak of our own (HTTP on
127.0.0.1): paging, the client-credentials token (cached, renewed once when refused), and every answer
that must not pass for a page."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from functools import partial

import pytest

from devinsider_common import errors
from devinsider_common.auth.service_identity import REFRESH_MARGIN_SECONDS, client_credentials_tokens
from user_service.adapters.keycloak_admin import KeycloakAdminDirectory
from user_service.domain.reconciliation import KeycloakAccount
from user_service.service_layer.ports import KeycloakRefused

from ..keycloak_server import CLIENT_ID, CLIENT_SECRET, FakeKeycloak, fake_keycloak


@pytest.fixture
def keycloak() -> Iterator[FakeKeycloak]:
    with fake_keycloak() as server:
        yield server


def _tokens(keycloak: FakeKeycloak, secret: str = CLIENT_SECRET) -> Callable[[], Callable[[], str]]:
    """Opens a cache of the service's token, as the bootstrap wires it."""
    return partial(client_credentials_tokens, keycloak.token_url, CLIENT_ID, secret, 2.0)


def _directory(keycloak: FakeKeycloak, page_size: int = 2, secret: str = CLIENT_SECRET) -> KeycloakAdminDirectory:
    return KeycloakAdminDirectory(
        keycloak.base_url, keycloak.realm, _tokens(keycloak, secret), page_size, timeout_seconds=2.0
    )


def _constant(token: str) -> Callable[[], Callable[[], str]]:
    return lambda: lambda: token


def _subjects(pages: Iterator[list[KeycloakAccount]] | list[list[KeycloakAccount]]) -> list[list[str]]:
    return [[account.subject for account in page] for page in pages]


def test_the_users_are_read_a_page_at_a_time_until_a_short_page(keycloak: FakeKeycloak) -> None:
    for n in range(5):
        keycloak.add_user(f"u{n}")
    assert _subjects(_directory(keycloak).pages()) == [["u0", "u1"], ["u2", "u3"], ["u4"]]
    assert keycloak.requests == [
        f"/admin/realms/devinsider/users?first={first}&max=2&briefRepresentation=true" for first in (0, 2, 4)
    ]
    assert len(keycloak.tokens_issued) == 1  # one client-credentials token for the whole listing


def test_a_full_last_page_is_followed_by_an_empty_one(keycloak: FakeKeycloak) -> None:
    for n in range(4):
        keycloak.add_user(f"u{n}")
    assert _subjects(_directory(keycloak).pages()) == [["u0", "u1"], ["u2", "u3"], []]


def test_an_account_carries_the_email_names_and_verification(keycloak: FakeKeycloak) -> None:
    keycloak.add_user("u1", email="Ada@Acme.io", first="Ada", last="Lovelace", verified=True)
    keycloak.users.append({"id": "u2", "username": "svc", "emailVerified": "yes", "firstName": None})
    keycloak.add_user("u3", enabled=False)
    keycloak.users.append({"id": "u4", "enabled": "no"})
    [page] = list(_directory(keycloak, page_size=10).pages())
    assert page == [
        KeycloakAccount("u1", email="Ada@Acme.io", given_name="Ada", family_name="Lovelace", email_verified=True),
        KeycloakAccount("u2"),  # absent or odd fields: empty, not verified, enabled
        KeycloakAccount("u3", enabled=False),
        KeycloakAccount("u4"),  # only a real `false` disables
    ]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ((500, b'{"error": "unknown_error"}'), "a server error"),
        ((403, b'{"error": "HTTP 403 Forbidden"}'), "a client without view-users"),
        ((200, b'{"users": []}'), "an object, not a list"),
        ((200, b'[{"email": "no-id@acme.io"}]'), "a user without an id"),
        ((200, b"[{]"), "not JSON"),
    ],
)
def test_a_page_that_is_not_a_page_fails_the_listing_after_the_pages_before_it(
    keycloak: FakeKeycloak, answer: tuple[int, bytes], why: str
) -> None:
    for n in range(5):
        keycloak.add_user(f"u{n}")
    keycloak.page_answers[2] = answer
    read: list[list[KeycloakAccount]] = []
    with pytest.raises(errors.Unavailable):
        read.extend(_directory(keycloak).pages())
    assert _subjects(read) == [["u0", "u1"]], why  # never taken for a short, last page


def test_a_realm_that_does_not_exist_fails_the_listing() -> None:
    with fake_keycloak(realm="devinsider") as keycloak:
        directory = KeycloakAdminDirectory(keycloak.base_url, "other", _tokens(keycloak), 2, timeout_seconds=2.0)
        with pytest.raises(errors.Unavailable):
            list(directory.pages())


def test_refused_credentials_fail_the_listing(keycloak: FakeKeycloak) -> None:
    keycloak.add_user("u0")
    with pytest.raises(errors.Unavailable):
        list(_directory(keycloak, secret="wrong").pages())
    assert keycloak.requests == []


def test_an_unreachable_keycloak_fails_the_listing() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}"
    directory = KeycloakAdminDirectory(url, "devinsider", _constant("unused"), 2, timeout_seconds=1.0)
    with pytest.raises(errors.Unavailable):
        list(directory.pages())
    with pytest.raises(errors.Unavailable):
        directory.exists("u0")


def test_exists_asks_for_the_one_user(keycloak: FakeKeycloak) -> None:
    keycloak.add_user("u/1?x")
    directory = _directory(keycloak)
    assert directory.exists("u/1?x") is True
    assert directory.exists("gone") is False
    assert keycloak.requests == ["/admin/realms/devinsider/users/u%2F1%3Fx", "/admin/realms/devinsider/users/gone"]


@pytest.mark.parametrize("status", [500, 403, 401])
def test_exists_cannot_tell_from_an_error_other_than_not_found(keycloak: FakeKeycloak, status: int) -> None:
    keycloak.user_answers["u0"] = (status, b'{"error": "no"}')
    with pytest.raises(errors.Unavailable):  # never False: False deletes the user
        _directory(keycloak).exists("u0")


def test_exists_cannot_tell_when_keycloak_refuses_the_token(keycloak: FakeKeycloak) -> None:
    with pytest.raises(errors.Unavailable):
        _directory(keycloak, secret="wrong").exists("u0")


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="http"):
        KeycloakAdminDirectory("file:///etc", "devinsider", _constant("t"), 2, timeout_seconds=1.0)


def test_the_token_is_kept_until_shortly_before_it_expires(keycloak: FakeKeycloak) -> None:
    for n in range(3):
        keycloak.add_user(f"u{n}")
    directory = _directory(keycloak)
    list(directory.pages())
    directory.exists("u0")
    assert len(keycloak.requests) == 3 and len(keycloak.tokens_issued) == 1  # `expires_in` 300 s
    keycloak.token_lifetime = int(REFRESH_MARGIN_SECONDS)  # expires within the margin: never reused
    short_lived = _directory(keycloak)
    list(short_lived.pages())
    short_lived.exists("u0")
    assert len(keycloak.tokens_issued) == 1 + 3


def test_a_refused_token_is_renewed_once_and_the_call_made_again(keycloak: FakeKeycloak) -> None:
    for n in range(3):
        keycloak.add_user(f"u{n}")
    pages = _directory(keycloak).pages()
    assert _subjects([next(pages)]) == [["u0", "u1"]]
    keycloak.revoke_tokens()  # revoked (or Keycloak restarted) before its expiry
    assert _subjects(pages) == [["u2"]]
    second_page = "/admin/realms/devinsider/users?first=2&max=2&briefRepresentation=true"
    assert keycloak.requests[1:] == [second_page, second_page] and len(keycloak.tokens_issued) == 2


def test_a_token_refused_again_is_refused_after_one_renewal(keycloak: FakeKeycloak) -> None:
    keycloak.add_user("u0")
    keycloak.refuse_tokens = True  # the client lost its rights, or its session was revoked for good
    directory = _directory(keycloak)
    with pytest.raises(KeycloakRefused, match="401"):
        list(directory.pages())
    assert len(keycloak.requests) == 2 and len(keycloak.tokens_issued) == 2  # one retry, no loop
    with pytest.raises(KeycloakRefused):
        directory.exists("u0")  # never "gone": that deletes
    assert len(keycloak.requests) == 4 and len(keycloak.tokens_issued) == 3


def test_a_forbidden_listing_is_refused_without_a_new_token(keycloak: FakeKeycloak) -> None:
    keycloak.page_answers[0] = (403, b'{"error": "HTTP 403 Forbidden"}')  # the client lacks view-users
    with pytest.raises(KeycloakRefused, match="view-users"):
        list(_directory(keycloak).pages())
    assert len(keycloak.requests) == 1 and len(keycloak.tokens_issued) == 1

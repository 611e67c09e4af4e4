"""Keycloak's admin API as the reconciliation reads it, against a fake Keycloak of our own (HTTP on
127.0.0.1): paging, the client-credentials token, and every answer that must not pass for a page."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from devinsider_common import errors
from devinsider_common.auth.service_identity import client_credentials_tokens
from user_service.adapters.keycloak_admin import KeycloakAdminDirectory
from user_service.domain.reconciliation import KeycloakAccount

from ..keycloak_server import CLIENT_ID, CLIENT_SECRET, FakeKeycloak, fake_keycloak


@pytest.fixture
def keycloak() -> Iterator[FakeKeycloak]:
    with fake_keycloak() as server:
        yield server


def _directory(keycloak: FakeKeycloak, page_size: int = 2, secret: str = CLIENT_SECRET) -> KeycloakAdminDirectory:
    token = client_credentials_tokens(keycloak.token_url, CLIENT_ID, secret, timeout_seconds=2.0)
    return KeycloakAdminDirectory(keycloak.base_url, keycloak.realm, token, page_size, timeout_seconds=2.0)


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
    [page] = list(_directory(keycloak, page_size=10).pages())
    assert page == [
        KeycloakAccount("u1", email="Ada@Acme.io", given_name="Ada", family_name="Lovelace", email_verified=True),
        KeycloakAccount("u2"),  # absent or odd fields: empty, not verified
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
        token = client_credentials_tokens(keycloak.token_url, CLIENT_ID, CLIENT_SECRET, timeout_seconds=2.0)
        directory = KeycloakAdminDirectory(keycloak.base_url, "other", token, 2, timeout_seconds=2.0)
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
    token = lambda: "unused"  # noqa: E731
    directory = KeycloakAdminDirectory(f"http://127.0.0.1:{closed_port}", "devinsider", token, 2, timeout_seconds=1.0)
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
        KeycloakAdminDirectory("file:///etc", "devinsider", lambda: "t", 2, timeout_seconds=1.0)

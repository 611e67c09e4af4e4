"""Keycloak's admin REST API as the reconciliation's `KeycloakDirectory`.

`GET {base}/admin/realms/{realm}/users?first=N&max=M&briefRepresentation=true`, a page at a time until
a page shorter than M; the brief representation carries the id, e-mail, names, `emailVerified` and
`enabled`, all the reconciliation reads. Any answer that is not a well-formed page (a status other than
200, a body that is not a list of users, a timeout) is `errors.Unavailable`, never a short page: a
short page ends the listing, and the listing decides who is deleted.

The client-credentials token is cached until shortly before its `expires_in` (`open_token` opens such
a cache). A 401 means Keycloak no longer takes it (revoked, a restarted Keycloak, rotated keys): the
call is made once more with a fresh token; a second 401, or a 403, is `KeycloakRefused`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from devinsider_common import errors
from user_service.domain.reconciliation import KeycloakAccount
from user_service.service_layer.ports import KeycloakRefused

TokenCache = Callable[[], str]


class KeycloakAdminDirectory:
    def __init__(
        self,
        base_url: str,
        realm: str,
        open_token: Callable[[], TokenCache],
        page_size: int,
        timeout_seconds: float,
    ) -> None:
        """`open_token()` gives a new cache of the service's token (`client_credentials_tokens`): the
        directory opens one at first and another when Keycloak refuses the token it holds."""
        if urllib.parse.urlparse(base_url).scheme not in {"http", "https"}:
            raise ValueError(f"Keycloak admin URL must be http(s): {base_url!r}")
        self._users_url = f"{base_url.rstrip('/')}/admin/realms/{urllib.parse.quote(realm, safe='')}/users"
        self._open_token = open_token
        self._token = open_token()
        self._page_size = page_size
        self._timeout = timeout_seconds

    def pages(self) -> Iterator[list[KeycloakAccount]]:
        first = 0
        while True:
            query = urllib.parse.urlencode({"first": first, "max": self._page_size, "briefRepresentation": "true"})
            found, body = self._get(f"{self._users_url}?{query}")
            if not found:
                raise errors.Unavailable(f"Keycloak has no users listing at {self._users_url} (is the realm right?)")
            page = _accounts(body)
            yield page
            if len(page) < self._page_size:
                return
            first += self._page_size

    def exists(self, subject: str) -> bool:
        found, _ = self._get(f"{self._users_url}/{urllib.parse.quote(subject, safe='')}")
        return found

    def _get(self, url: str) -> tuple[bool, Any]:
        """(True, the JSON body) for a 200, (False, None) for a 404; a 401 is tried once more with a fresh
        token; a second 401 or a 403 is KeycloakRefused, anything else Unavailable."""
        try:
            return self._get_once(url)
        except urllib.error.HTTPError as error:
            if error.code != 401:
                raise _failure(error, url) from error
        self._token = self._open_token()  # the cached token is refused before its expiry: take a new one
        try:
            return self._get_once(url)
        except urllib.error.HTTPError as error:
            raise _failure(error, url) from error

    def _get_once(self, url: str) -> tuple[bool, Any]:
        """As `_get`, but any HTTP status other than 200 and 404 is left as an HTTPError."""
        request = urllib.request.Request(url, method="GET")  # noqa: S310 - the scheme is checked above
        request.add_header("Authorization", f"Bearer {self._token()}")
        request.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return True, json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return False, None
            raise
        except (OSError, ValueError) as error:
            raise errors.Unavailable(f"Keycloak admin API: {error}") from error


def _failure(error: urllib.error.HTTPError, url: str) -> errors.Unavailable:
    if error.code in {401, 403}:
        return KeycloakRefused(
            f"Keycloak admin API refused the service's token ({error.code}) for {url}: check AUTH_CLIENT_ID, "
            "AUTH_CLIENT_SECRET and the client's realm-management view-users role"
        )
    return errors.Unavailable(f"Keycloak admin API answered {error.code} for {url}")


def _accounts(body: Any) -> list[KeycloakAccount]:
    if not isinstance(body, list):
        raise errors.Unavailable("Keycloak's users listing is not a JSON list")
    return [_account(item) for item in body]


def _account(item: Any) -> KeycloakAccount:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise errors.Unavailable("Keycloak listed a user without an id")

    def text(key: str) -> str:
        value = item.get(key)
        return value if isinstance(value, str) else ""

    return KeycloakAccount(
        subject=item["id"],
        email=text("email"),
        given_name=text("firstName"),
        family_name=text("lastName"),
        email_verified=item.get("emailVerified") is True,
        enabled=item.get("enabled") is not False,
    )

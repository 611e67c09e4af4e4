"""A fake Keycloak of our own on 127.0.0.1: the token endpoint (client credentials) and the admin API's
users (paged listing with `first`/`max`, one user by id), for the adapter and service tests.

`page_answers[first]` replaces the answer to the page starting at `first` (a status and a body: a
failure, a malformed page), `user_answers[id]` the answer about one user; `requests` records the
admin calls, `tokens_issued` the grants (`expires_in`: `token_lifetime`), accepted until
`revoke_tokens()`; with `refuse_tokens` none is. `hold_page[first]`, when set, is an
event the answer to that page waits for (a run kept in progress).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REALM = "devinsider"
CLIENT_ID = "devinsider-user-service"
CLIENT_SECRET = "test-client-secret"


class FakeKeycloak:
    def __init__(self, realm: str = REALM) -> None:
        self.realm = realm
        self.users: list[dict[str, Any]] = []
        self.page_answers: dict[int, tuple[int, bytes]] = {}
        self.user_answers: dict[str, tuple[int, bytes]] = {}
        self.requests: list[str] = []
        self.tokens_issued: list[str] = []
        self.token_lifetime = 300
        self.refuse_tokens = False
        self.hold_page: dict[int, threading.Event] = {}
        self._accepted: set[str] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/realms/{self.realm}/protocol/openid-connect/token"

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on (a 401), as after a revocation."""
        self._accepted.clear()

    def add_user(
        self,
        user_id: str,
        email: str = "",
        first: str = "",
        last: str = "",
        verified: bool = False,
        enabled: bool = True,
    ) -> None:
        self.users.append(
            {
                "id": user_id,
                "username": email or user_id,
                "email": email,
                "firstName": first,
                "lastName": last,
                "emailVerified": verified,
                "enabled": enabled,
                "createdTimestamp": 1_795_000_000_000,
            }
        )

    def answer(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], bearer: str
    ) -> tuple[int, Any]:
        admin = f"/admin/realms/{self.realm}/users"
        if method == "POST" and path == f"/realms/{self.realm}/protocol/openid-connect/token":
            if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                "client_credentials",
                CLIENT_ID,
                CLIENT_SECRET,
            ):
                return 401, {"error": "unauthorized_client"}
            self.tokens_issued.append(f"token-{len(self.tokens_issued)}")
            self._accepted.add(self.tokens_issued[-1])
            answer = {"access_token": self.tokens_issued[-1], "expires_in": self.token_lifetime}
            return 200, answer | {"token_type": "Bearer"}
        if not path.startswith(admin):
            return 404, {"error": "Realm not found."}
        self.requests.append(path + ("?" + urllib.parse.urlencode(query) if query else ""))
        if bearer not in self._accepted or self.refuse_tokens:
            return 401, {"error": "HTTP 401 Unauthorized"}
        if path == admin:
            first, size = int(query.get("first", "0")), int(query.get("max", "100"))
            if first in self.hold_page:
                self.hold_page[first].wait(timeout=10)
            if first in self.page_answers:
                return self.page_answers[first]
            return 200, self.users[first : first + size]
        user_id = urllib.parse.unquote(path.removeprefix(admin + "/"))
        if user_id in self.user_answers:
            return self.user_answers[user_id]
        found = [u for u in self.users if u["id"] == user_id]
        return (200, found[0]) if found else (404, {"error": "User not found"})


@contextmanager
def fake_keycloak(realm: str = REALM) -> Iterator[FakeKeycloak]:
    keycloak = FakeKeycloak(realm)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())) if length else {}
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            status, body = keycloak.answer(method, url.path, dict(urllib.parse.parse_qsl(url.query)), form, bearer)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    keycloak.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield keycloak
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

"""Service identities: dev service tokens and Keycloak's client-credentials grant (local fake endpoint)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from devinsider_common import errors
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.service_identity import (
    client_credentials_tokens,
    dev_service_tokens,
    service_token_provider,
)
from devinsider_common.settings import AuthSettings

ISSUER = "http://localhost/service-identity-test"


class TokenEndpoint(BaseHTTPRequestHandler):
    hits: list[dict[str, list[str]]] = []
    answer: dict[str, object] = {"access_token": "tok-1", "expires_in": 300, "token_type": "Bearer"}

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        type(self).hits.append(form)
        body = json.dumps(self.answer).encode()
        self.send_response(200 if form.get("client_secret") == ["s3cret"] else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def token_url() -> Iterator[str]:
    TokenEndpoint.hits = []
    server = HTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/realms/devinsider/protocol/openid-connect/token"
    server.shutdown()
    server.server_close()


def test_dev_service_tokens_carry_the_service_role_and_are_reused(tmp_path: Path) -> None:
    tokens = dev_service_tokens(tmp_path, ISSUER, "program")
    first = tokens()
    assert tokens() == first
    principal = JwtVerifier(AuthSettings(issuer=ISSUER, dev_key_dir=tmp_path)).verify(first)
    assert principal.subject == "service-program" and principal.is_service


def test_client_credentials_are_fetched_once_while_valid(token_url: str) -> None:
    tokens = client_credentials_tokens(token_url, "devinsider-program", "s3cret")
    assert tokens() == tokens() == "tok-1"
    assert len(TokenEndpoint.hits) == 1
    assert TokenEndpoint.hits[0]["grant_type"] == ["client_credentials"]
    assert TokenEndpoint.hits[0]["client_id"] == ["devinsider-program"]


def test_a_refused_or_unreachable_token_endpoint_is_unavailable(token_url: str) -> None:
    with pytest.raises(errors.Unavailable):
        client_credentials_tokens(token_url, "devinsider-program", "wrong")()
    with pytest.raises(errors.Unavailable):
        client_credentials_tokens("http://127.0.0.1:9/token", "c", "s", timeout_seconds=0.5)()
    with pytest.raises(ValueError, match="http"):
        client_credentials_tokens("file:///etc/passwd", "c", "s")


def test_production_settings_need_client_credentials(tmp_path: Path, token_url: str) -> None:
    with pytest.raises(ValueError, match="AUTH_CLIENT_ID"):
        service_token_provider(AuthSettings(jwks_url="http://kc/certs"), "program")
    prod = AuthSettings(jwks_url="http://kc/certs", token_url=token_url, client_id="c", client_secret="s3cret")
    assert service_token_provider(prod, "program")() == "tok-1"
    dev = service_token_provider(AuthSettings(issuer=ISSUER, dev_key_dir=tmp_path), "program")()
    assert JwtVerifier(AuthSettings(issuer=ISSUER, dev_key_dir=tmp_path)).verify(dev).is_service

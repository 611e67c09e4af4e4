"""Dev issuer: keys made once and reused (also under concurrent first use), tokens the dev-mode verifier accepts."""

from __future__ import annotations

import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest

from devinsider_common.auth import dev_issuer
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.errors import Unauthenticated
from devinsider_common.settings import AuthSettings

DEV_ISSUER = "http://localhost/devinsider-dev"


def _dev_verifier(key_dir: Path) -> JwtVerifier:
    return JwtVerifier(AuthSettings(issuer=DEV_ISSUER, jwks_url="", dev_key_dir=key_dir))


def test_keys_are_created_once_with_a_private_file_and_reused(tmp_path: Path) -> None:
    first = dev_issuer.ensure_dev_keys(tmp_path / "keys")
    second = dev_issuer.ensure_dev_keys(tmp_path / "keys")
    assert first.kid == second.kid
    assert first.jwks == second.jwks
    mode = stat.S_IMODE((tmp_path / "keys" / dev_issuer.PRIVATE_KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert (tmp_path / "keys" / dev_issuer.JWKS_FILE).is_file()
    assert "d" not in first.jwks["keys"][0]  # the JWKS holds the public half only


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        kids = set(pool.map(lambda _: dev_issuer.ensure_dev_keys(tmp_path).kid, range(8)))
    assert len(kids) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [dev_issuer.JWKS_FILE, dev_issuer.PRIVATE_KEY_FILE]


def test_issued_token_is_keycloak_shaped_and_verifies_in_dev_mode(tmp_path: Path) -> None:
    token = dev_issuer.issue_token(
        tmp_path, DEV_ISSUER, "alice", roles=["isv", "admin"], email="alice@example.test", given_name="Alice"
    )
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == dev_issuer.ensure_dev_keys(tmp_path).kid
    principal = _dev_verifier(tmp_path).verify(token)
    assert principal.subject == "alice"
    assert principal.roles == frozenset({"isv", "admin"})
    assert principal.email == "alice@example.test"
    assert principal.claims["typ"] == "Bearer"
    assert principal.claims["azp"] == "devinsider"


def test_dev_mode_rejects_other_issuers_and_other_key_dirs(tmp_path: Path) -> None:
    verifier = _dev_verifier(tmp_path / "service")
    dev_issuer.ensure_dev_keys(tmp_path / "service")
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(dev_issuer.issue_token(tmp_path / "service", "http://elsewhere/realm", "alice"))
    assert caught.value.reason == "TOKEN_BAD_ISSUER"
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(dev_issuer.issue_token(tmp_path / "stranger", DEV_ISSUER, "alice"))
    assert caught.value.reason == "TOKEN_UNKNOWN_KEY"


def test_expired_dev_token_is_rejected(tmp_path: Path) -> None:
    token = dev_issuer.issue_token(tmp_path, DEV_ISSUER, "alice", ttl_seconds=-120)
    with pytest.raises(Unauthenticated) as caught:
        _dev_verifier(tmp_path).verify(token)
    assert caught.value.reason == "TOKEN_EXPIRED"


def test_cli_prints_only_a_token_that_verifies(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devinsider_common.auth.dev_issuer",
            "--sub",
            "bob",
            "--role",
            "investor",
            "--role",
            "guest",
            "--name",
            "Bob Builder",
            "--key-dir",
            str(tmp_path),
            "--issuer",
            DEV_ISSUER,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    principal = _dev_verifier(tmp_path).verify(lines[0])
    assert principal.subject == "bob"
    assert principal.roles == frozenset({"investor", "guest"})
    assert (principal.given_name, principal.family_name) == ("Bob", "Builder")
    assert principal.email == "bob@example.test"


def test_console_script_main_uses_the_same_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev_issuer.main(["--sub", "carol", "--role", "admin", "--key-dir", str(tmp_path), "--issuer", DEV_ISSUER])
    token = capsys.readouterr().out.strip()
    assert _dev_verifier(tmp_path).verify(token).roles == frozenset({"admin"})

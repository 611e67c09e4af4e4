"""Dev issuer: keys made once and reused (also under concurrent first use), tokens the dev-mode verifier accepts;
the command signs with the services' key pair, found from any working directory, and never makes one."""

from __future__ import annotations

import os
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
    dev_issuer.ensure_dev_keys(tmp_path)  # as the services do at start
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
    assert principal.email_verified is True  # accepting an invitation needs it (the README's walk-through)


def test_console_script_main_uses_the_same_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev_issuer.ensure_dev_keys(tmp_path)
    dev_issuer.main(["--sub", "carol", "--role", "admin", "--key-dir", str(tmp_path), "--issuer", DEV_ISSUER])
    token = capsys.readouterr().out.strip()
    assert _dev_verifier(tmp_path).verify(token).roles == frozenset({"admin"})


def _run_command(cwd: Path, *args: str, key_dir: str | None = None) -> subprocess.CompletedProcess[str]:
    """`devinsider-dev-token` run from `cwd`, with AUTH_DEV_KEY_DIR `key_dir` (unset: the default)."""
    env = {k: v for k, v in os.environ.items() if k.upper() != "AUTH_DEV_KEY_DIR"}
    if key_dir is not None:
        env["AUTH_DEV_KEY_DIR"] = key_dir
    command = [sys.executable, "-m", "devinsider_common.auth.dev_issuer", "--sub", "dana", "--issuer", DEV_ISSUER]
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60)


def test_the_command_finds_the_services_keys_from_a_subdirectory_of_their_working_directory(tmp_path: Path) -> None:
    services_keys = tmp_path / "checkout" / "var" / "dev-keys"
    dev_issuer.ensure_dev_keys(services_keys)  # the services started from `checkout` made them
    subdirectory = tmp_path / "checkout" / "services" / "user"
    subdirectory.mkdir(parents=True)
    result = _run_command(subdirectory)
    assert result.returncode == 0, result.stderr
    assert _dev_verifier(services_keys).verify(result.stdout.strip()).subject == "dana"
    assert not (subdirectory / "var").exists()


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_the_command_refuses_to_make_keys_of_its_own(tmp_path: Path, where: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # A key dir nobody made (relative: looked up from `elsewhere` upwards, then in this checkout).
    missing = "var/no-such-dev-keys" if where == "relative" else str(tmp_path / "no-such-dev-keys")
    result = _run_command(elsewhere, key_dir=missing)
    assert result.returncode == 2 and result.stdout == ""
    assert "no dev key pair" in result.stderr and "start the services first" in result.stderr, result.stderr
    assert "--key-dir" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere"] and not any(elsewhere.iterdir())


def test_outside_any_checkout_the_keys_of_this_checkout_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    dev_issuer.ensure_dev_keys(checkout / "var" / "dev-keys")
    monkeypatch.setattr(dev_issuer, "_checkout_root", lambda: checkout)
    outside = tmp_path / "outside"
    outside.mkdir()
    assert dev_issuer.locate_dev_keys(Path("var/dev-keys"), cwd=outside) == checkout / "var" / "dev-keys"


def test_this_checkout_is_found_from_an_editable_install() -> None:
    root = Path(__file__).resolve().parents[4]
    assert dev_issuer._checkout_root() == root

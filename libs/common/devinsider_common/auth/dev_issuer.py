"""Dev identity for LOCAL RUNS ONLY: a key pair on disk and a command that prints signed tokens.

Services accept these tokens only in dev mode (AUTH_JWKS_URL unset), where the verifier reads
the public key from the same key dir and checks the configured dev issuer. The tokens look like
Keycloak access tokens (typ Bearer, azp, realm_access.roles) so the same code path is exercised.

`private.pem` is the single source of truth: the kid is its RFC 7638 thumbprint and `jwks.json`
is derived from it, so two processes starting at once agree (the first hard link wins).

The services (and `make run`) create the pair; the command only reads it. It looks for a relative
key dir in the working directory and its parents, then in this checkout, and fails when there is
none: a key pair of its own would sign tokens that the services and the edge refuse.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from devinsider_common.settings import AuthSettings

PRIVATE_KEY_FILE = "private.pem"
JWKS_FILE = "jwks.json"
DEV_CLIENT_ID = "devinsider"


@dataclass(frozen=True)
class DevKeys:
    kid: str
    private_key: rsa.RSAPrivateKey
    jwks: dict[str, Any]


def _thumbprint(jwk: dict[str, Any]) -> str:
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _create_private_key(path: Path) -> None:
    """Write a new key to a temp file (0600 from the start), then link it in unless one exists."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.link(temp, path)  # atomic create-if-absent: a concurrent winner keeps its key
    except FileExistsError:
        pass
    finally:
        temp.unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def ensure_dev_keys(key_dir: Path) -> DevKeys:
    """The dev key pair in `key_dir`, generated on first use and reused afterwards."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = key_dir / PRIVATE_KEY_FILE
    if not private_path.exists():
        _create_private_key(private_path)
    private_key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError(f"{private_path} is not an RSA private key")
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    kid = _thumbprint(jwk)
    jwks = {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}
    jwks_path = key_dir / JWKS_FILE
    text = json.dumps(jwks, indent=2)
    if not jwks_path.exists() or jwks_path.read_text(encoding="utf-8") != text:
        _write_atomically(jwks_path, text)
    return DevKeys(kid=kid, private_key=private_key, jwks=jwks)


class NoDevKeysError(Exception):
    """No dev key pair where the command looked: the services have not made one there."""


def _checkout_root() -> Path | None:
    """The repository this module runs from (an editable install), or None when installed elsewhere."""
    root = Path(__file__).resolve().parents[4]
    return root if (root / "libs" / "common" / "devinsider_common").is_dir() else None


def locate_dev_keys(key_dir: Path, cwd: Path | None = None) -> Path:
    """The existing key dir the services use: `key_dir` itself when absolute; when relative (the
    default `var/dev-keys`, which the services resolve against their working directory), the first of
    `cwd` and its parents, then this checkout, that holds the pair."""
    if key_dir.is_absolute():
        candidates, where = [key_dir], str(key_dir)
    else:
        here = (cwd or Path.cwd()).resolve()
        checkout = _checkout_root()
        bases = [here, *here.parents, *([checkout] if checkout else [])]
        candidates = [base / key_dir for base in bases]
        where = f"{key_dir} under {here} or its parents" + (f" or {checkout}" if checkout else "")
    for candidate in candidates:
        if (candidate / PRIVATE_KEY_FILE).is_file():
            return candidate
    raise NoDevKeysError(
        f"no dev key pair ({PRIVATE_KEY_FILE}) in {where}: start the services first (`make run` creates "
        "it), or pass --key-dir (or AUTH_DEV_KEY_DIR) naming the directory they use"
    )


def issue_token(
    key_dir: Path,
    issuer: str,
    subject: str,
    roles: list[str] | tuple[str, ...] = (),
    audience: str = DEV_CLIENT_ID,
    email: str = "",
    given_name: str = "",
    family_name: str = "",
    ttl_seconds: int = 3600,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """An RS256 access token shaped like Keycloak's, signed with the dev key."""
    keys = ensure_dev_keys(key_dir)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "azp": DEV_CLIENT_ID,
        "typ": "Bearer",
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "realm_access": {"roles": list(roles)},
        "email": email,
        "email_verified": bool(email),
        "given_name": given_name,
        "family_name": family_name,
        "name": f"{given_name} {family_name}".strip(),
    }
    claims.update(extra_claims or {})
    return jwt.encode(claims, keys.private_key, algorithm="RS256", headers={"kid": keys.kid})


def main(argv: list[str] | None = None) -> None:
    """`devinsider-dev-token --sub alice --role isv`: prints a dev token and nothing else."""
    defaults = AuthSettings()
    parser = argparse.ArgumentParser(
        prog="devinsider-dev-token", description="Print a dev access token (local runs only)."
    )
    parser.add_argument("--sub", default="dev-user", help="subject (the Keycloak user id)")
    parser.add_argument("--role", action="append", default=[], help="realm role; repeat for several")
    parser.add_argument("--email", default="", help="e-mail claim (default: <sub>@example.test)")
    parser.add_argument("--name", default="", help='"Given Family"')
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    parser.add_argument("--issuer", default=defaults.issuer)
    parser.add_argument("--audience", default=DEV_CLIENT_ID)
    parser.add_argument("--key-dir", type=Path, default=defaults.dev_key_dir)
    args = parser.parse_args(argv)
    try:
        key_dir = locate_dev_keys(args.key_dir)
    except NoDevKeysError as error:
        parser.error(str(error))
    given, _, family = args.name.partition(" ")
    token = issue_token(
        key_dir,
        args.issuer,
        args.sub,
        roles=args.role,
        audience=args.audience,
        email=args.email or f"{args.sub}@example.test",
        given_name=given,
        family_name=family,
        ttl_seconds=args.ttl,
    )
    print(token)


if __name__ == "__main__":
    main()

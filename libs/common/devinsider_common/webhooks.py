"""Signed webhooks: HMAC-SHA256 of the raw body, compared in constant time.

Keycloak (p2-inc/keycloak-events) and payment providers send the lowercase hex digest in a
header, sometimes with a `sha256=` prefix. A missing or malformed header is a rejection.
"""

from __future__ import annotations

import hashlib
import hmac

from devinsider_common import errors


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header_value: str | None, secret: str) -> None:
    """Raise Unauthenticated unless `header_value` is the HMAC-SHA256 of `body` under `secret`."""
    if not secret:
        raise errors.Unavailable("webhook secret is not configured", reason="WEBHOOK_NOT_CONFIGURED")
    if not header_value:
        raise errors.Unauthenticated("signature header is missing", reason="SIGNATURE_MISSING")
    candidate = header_value.strip()
    if candidate.lower().startswith("sha256="):
        candidate = candidate[len("sha256=") :]
    if not hmac.compare_digest(candidate.lower().encode(), sign(body, secret).encode()):
        raise errors.Unauthenticated("signature does not match the body", reason="SIGNATURE_MISMATCH")

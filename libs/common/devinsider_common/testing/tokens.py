"""Dev tokens for the tests: a signed-in user (subject, e-mail, bearer metadata) in one call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.principal import Principal
from devinsider_common.testing.services import TEST_ISSUER, Metadata, bearer


class TokenFactory:
    """`tokens("alice", roles=("isv",))`: an RS256 token the services under test accept (keys under
    `key_dir`, issuer TEST_ISSUER)."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir

    def __call__(
        self,
        subject: str,
        roles: tuple[str, ...] = ("isv",),
        email: str = "",
        *,
        given_name: str = "Ada",
        family_name: str = "Lovelace",
        ttl_seconds: int = 600,
        **claims: object,
    ) -> str:
        return issue_token(
            self.key_dir,
            TEST_ISSUER,
            subject,
            roles=roles,
            email=email or f"{subject}@example.com",
            given_name=given_name,
            family_name=family_name,
            ttl_seconds=ttl_seconds,
            extra_claims=dict(claims) or None,
        )


@dataclass(frozen=True)
class Caller:
    """A signed-in user of the tests: subject, e-mail and the metadata carrying their token."""

    subject: str
    email: str
    metadata: Metadata


class CallerFactory:
    """`callers("alice")`: a Caller whose token `tokens` signs."""

    def __init__(self, tokens: TokenFactory) -> None:
        self.tokens = tokens

    def __call__(self, subject: str, roles: tuple[str, ...] = ("isv",), email: str = "", **claims: object) -> Caller:
        email = email or f"{subject}@example.com"
        return Caller(subject, email, bearer(self.tokens(subject, roles, email, **claims)))  # type: ignore[arg-type]


def principal(
    subject: str, roles: tuple[str, ...] = ("isv",), email: str = "", *, email_verified: bool = True
) -> Principal:
    """The Principal a use case receives for a signed-in user (use-case tests, no token involved)."""
    return Principal(
        subject=subject,
        email=email or f"{subject}@example.com",
        roles=frozenset(roles),
        given_name="Ada",
        family_name="Lovelace",
        email_verified=email_verified,
    )

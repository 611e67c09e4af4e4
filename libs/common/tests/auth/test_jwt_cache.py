"""The verified-token cache of JwtVerifier: hits skip the signature check, entries end at the earlier of
the token's exp and the TTL, the LRU stays bounded, failures are never cached, expired tokens are refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from jwt import PyJWK

from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.jwt_verifier import JwtVerifier, VerifiedTokenCache
from devinsider_common.auth.principal import Principal
from devinsider_common.errors import Unauthenticated
from devinsider_common.settings import AuthSettings

ISSUER = "http://localhost/devinsider-cache-test"


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class CountingVerifier(JwtVerifier):
    """Counts the full verifications (header, key, signature, claims) the cache did not spare."""

    decodes = 0

    def _decode(self, token: str) -> tuple[dict[str, Any], str, PyJWK]:
        self.decodes += 1
        return super()._decode(token)


def _verifier(keys: Path, clock: FakeClock, **kwargs: Any) -> CountingVerifier:
    settings = AuthSettings(issuer=ISSUER, dev_key_dir=keys, leeway_seconds=0)
    return CountingVerifier(settings, wall_clock=clock, **kwargs)


def _token(keys: Path, subject: str = "ada", ttl: int = 600) -> str:
    return issue_token(keys, ISSUER, subject, roles=["isv"], email=f"{subject}@example.com", ttl_seconds=ttl)


def test_a_repeated_token_is_verified_once(tmp_path: Path) -> None:
    clock = FakeClock()
    verifier = _verifier(tmp_path, clock)
    token = _token(tmp_path)
    first = verifier.verify(token)
    second = verifier.verify(token)
    assert verifier.decodes == 1
    assert second == first
    assert second.subject == "ada" and second.has_role("isv")


def test_entries_expire_after_the_ttl(tmp_path: Path) -> None:
    clock = FakeClock()
    verifier = _verifier(tmp_path, clock, cache_ttl_seconds=30)
    token = _token(tmp_path, ttl=600)
    verifier.verify(token)
    clock.now += 29
    verifier.verify(token)
    assert verifier.decodes == 1
    clock.now += 2  # past insertion + ttl, long before exp
    verifier.verify(token)
    assert verifier.decodes == 2


def test_entries_expire_at_the_token_exp_before_the_ttl(tmp_path: Path) -> None:
    clock = FakeClock()
    verifier = _verifier(tmp_path, clock, cache_ttl_seconds=3600)
    token = _token(tmp_path, ttl=60)
    principal = verifier.verify(token)
    clock.now = principal.claims["exp"] - 1
    verifier.verify(token)
    assert verifier.decodes == 1
    clock.now = principal.claims["exp"]  # the entry ends at exp even though the ttl is an hour
    verifier.verify(token)  # verified again (the real clock is still before exp, so it passes)
    assert verifier.decodes == 2


def test_an_expired_token_is_refused_even_after_a_cached_success(tmp_path: Path) -> None:
    verifier = JwtVerifier(AuthSettings(issuer=ISSUER, dev_key_dir=tmp_path, leeway_seconds=0), cache_ttl_seconds=3600)
    # Long enough for the first verification to succeed on a loaded machine (exp has a 1 s resolution).
    token = _token(tmp_path, ttl=3)
    exp = verifier.verify(token).claims["exp"]
    while time.time() <= exp + 0.05:
        time.sleep(0.05)
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(token)
    assert refused.value.reason == "TOKEN_EXPIRED"


def test_failures_are_never_cached(tmp_path: Path) -> None:
    clock = FakeClock()
    verifier = _verifier(tmp_path, clock)
    forged = _token(tmp_path)[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
    assert verifier.decodes == 2
    assert len(verifier._verified) == 0


def test_the_cache_is_a_bounded_lru(tmp_path: Path) -> None:
    clock = FakeClock()
    verifier = _verifier(tmp_path, clock, cache_size=2)
    a, b, c = (_token(tmp_path, subject) for subject in ("a", "b", "c"))
    verifier.verify(a)
    verifier.verify(b)
    verifier.verify(a)  # a is now the most recently used
    verifier.verify(c)  # evicts b
    assert verifier.decodes == 3
    assert len(verifier._verified) == 2
    verifier.verify(a)
    assert verifier.decodes == 3
    verifier.verify(b)
    assert verifier.decodes == 4


def test_size_zero_disables_the_cache(tmp_path: Path) -> None:
    clock = FakeClock()
    verifier = _verifier(tmp_path, clock, cache_size=0)
    token = _token(tmp_path)
    verifier.verify(token)
    verifier.verify(token)
    assert verifier.decodes == 2


def test_a_principal_without_a_numeric_exp_is_not_cached() -> None:
    clock = FakeClock()
    cache = VerifiedTokenCache(8, 60, clock)
    cache.put("t", Principal(subject="x", claims={"exp": "soon"}))
    assert cache.get("t") is None
    cache.put("u", Principal(subject="y", claims={"exp": clock.now + 10}))
    assert cache.get("u") is not None

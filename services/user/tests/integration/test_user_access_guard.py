"""Other services enforce the blacklist by asking this service (devinsider_common.auth.user_access)."""

from __future__ import annotations

import time

import grpc
import pytest

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.auth.service_identity import dev_service_tokens
from devinsider_common.auth.user_access import UserServiceAccessGuard
from devinsider_common.cache import InMemoryCache
from devinsider_common.context import token_var
from devinsider_common.testing.tokens import TokenFactory
from user_service.bootstrap import UserService

from ..conftest import ISSUER, bearer


def test_a_remote_service_refuses_blacklisted_users_within_the_ttl(
    service: UserService, stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    service_tokens = dev_service_tokens(service.settings.auth.dev_key_dir, ISSUER, "company")
    guard = UserServiceAccessGuard(stub, service_tokens, InMemoryCache(), ttl=0.5)
    mallory = Principal("kc-mallory", frozenset({"isv"}), email="m@spam.example")
    guard.check(mallory)
    entry = user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, value="spam.example")
    stub.CreateBlacklistEntry(
        user_pb2.CreateBlacklistEntryRequest(blacklist_entry=entry), metadata=bearer(token("a", roles=("admin",)))
    )
    guard.check(mallory)  # the cached answer holds until the TTL...
    time.sleep(0.6)
    with pytest.raises(errors.PermissionDenied) as raised:  # ...then the user service's answer applies
        guard.check(mallory)
    assert raised.value.reason == "BLACKLISTED_DOMAIN"
    guard.check(Principal("svc", frozenset({"service"})))  # machine accounts are not users


def test_the_guard_fails_closed_when_the_user_service_is_down() -> None:
    with grpc.insecure_channel("127.0.0.1:9") as channel:
        guard = UserServiceAccessGuard(user_pb2_grpc.UserServiceStub(channel), lambda: "t", InMemoryCache())
        with pytest.raises(errors.Unavailable):
            guard.check(Principal("kc-x", frozenset({"isv"}), email="x@ok.io"))


def test_the_answer_names_the_subjects_user_once_it_has_one_and_the_guard_reuses_it(
    service: UserService, stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    service_tokens = dev_service_tokens(service.settings.auth.dev_key_dir, ISSUER, "company")
    unknown = stub.CheckUserAccess(
        user_pb2.CheckUserAccessRequest(subject="kc-newcomer"), metadata=bearer(service_tokens())
    )
    assert (unknown.allowed, unknown.user) == (True, "")
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-newcomer")))  # the user is created
    known = stub.CheckUserAccess(
        user_pb2.CheckUserAccessRequest(subject="kc-newcomer"), metadata=bearer(service_tokens())
    )
    assert (known.allowed, known.user) == (True, me.name)

    cache = InMemoryCache()
    guard = UserServiceAccessGuard(stub, service_tokens, cache, ttl=60)
    newcomer = Principal("kc-newcomer", frozenset({"isv"}), email="newcomer@example.com")
    guard.check(newcomer)
    assert guard.user_of(newcomer) == me.name
    assert guard.user_of(Principal("svc", frozenset({"service"}))) == ""
    # An answer cached before answers named the user (`allowed:reason`) still reads, as unknown.
    cache.set("user_access", "kc-old|old@example.com", b"1:", 60)
    old = Principal("kc-old", frozenset({"isv"}), email="old@example.com")
    guard.check(old)
    assert guard.user_of(old) == ""


def test_a_caller_the_user_service_has_not_seen_gets_its_user_from_its_own_token(
    service: UserService, stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    service_tokens = dev_service_tokens(service.settings.auth.dev_key_dir, ISSUER, "company")
    guard = UserServiceAccessGuard(stub, service_tokens, InMemoryCache(), ttl=60)
    newcomer = Principal("kc-first-time", frozenset({"isv"}), email="first-time@example.com")
    guard.check(newcomer)
    assert guard.user_of(newcomer) == ""  # unknown: this answer is now cached
    assert guard.ensure_user(newcomer) == ""  # outside a call there is no token to create it with
    reset = token_var.set(token("kc-first-time", email="first-time@example.com", given_name="Fay"))
    try:
        user = guard.ensure_user(newcomer)
    finally:
        token_var.reset(reset)
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-first-time")))
    assert user == me.name and me.given_name == "Fay"  # created from the caller's claims
    assert guard.user_of(newcomer) == user  # the cached answer names it from now on
    assert guard.ensure_user(Principal("svc", frozenset({"service"}))) == ""

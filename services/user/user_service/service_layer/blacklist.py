"""Use cases on the blacklist, and the platform access rule every call goes through."""

from __future__ import annotations

from dataclasses import replace

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.cache import Cache
from devinsider_common.ids import new_id
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import create_once, never
from user_service.domain.blacklist import (
    AccessDecision,
    BlacklistEntry,
    BlacklistKind,
    decide_access,
    parent_domains,
)
from user_service.domain.model import UserState
from user_service.service_layer.ports import Clock, UowFactory


class BlacklistUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, limits: ListLimits) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits

    def create(self, principal: Principal, kind: BlacklistKind, value: str, reason: str) -> BlacklistEntry:
        value = value.strip().lower() if kind is BlacklistKind.EMAIL_DOMAIN else value.strip()
        entry = BlacklistEntry(new_id(), kind, value, reason.strip(), principal.subject, self._clock())
        entry.validate()

        def already(_: object = None) -> errors.AlreadyExists:
            return errors.AlreadyExists(f"{kind.value} {value} is already blacklisted", reason="ALREADY_BLACKLISTED")

        def add() -> BlacklistEntry:
            with self._uow() as uow:
                if uow.blacklist.find(kind, value) is not None:
                    raise already()
                uow.blacklist.add(entry)
                uow.events.blacklist_changed(entry, removed=False)
                uow.commit()
            return entry

        return create_once(add, never, already)  # a concurrent twin is "already blacklisted" too

    def delete(self, entry_id: str) -> None:
        with self._uow() as uow:
            entry = uow.blacklist.get(entry_id)
            if entry is None:
                raise errors.NotFound(f"blacklistEntries/{entry_id} does not exist", reason="BLACKLIST_ENTRY_NOT_FOUND")
            uow.blacklist.remove(entry_id)
            uow.events.blacklist_changed(entry, removed=True)
            uow.commit()

    def list_blacklist_entries(
        self, page_size: int, page_token: str, kind: BlacklistKind | None
    ) -> tuple[list[BlacklistEntry], str]:
        window = list_window(
            page_size,
            page_token,
            self._limits,
            filters={"kind": kind.value if kind else ""},
        )
        with self._uow(read_only=True) as uow:
            found = uow.blacklist.list_after(window, kind)
        return finish_window(window, found)

    def check_access(self, subject: str, email: str) -> AccessDecision:
        """The platform access rule, read fresh from the database."""
        with self._uow(read_only=True) as uow:
            user = uow.users.get_by_subject(subject)
            email = email or (user.email if user else "")
            blocked_subjects = uow.blacklist.matching(BlacklistKind.USER, {subject})
            blocked_domains = uow.blacklist.matching(BlacklistKind.EMAIL_DOMAIN, parent_domains(email))
        deleted = user is not None and user.state is UserState.DELETED
        disabled = user is not None and user.disabled
        decision = decide_access(subject, email, deleted, blocked_subjects, blocked_domains, user_disabled=disabled)
        return replace(decision, user=user.name) if user is not None else decision


class CachedAccessGuard:
    """The auth layer's AccessGuard for this service. Answers are cached per subject and e-mail for
    `ttl` seconds (in Redis when configured, shared by the replicas), so a new blacklist entry, a
    deletion or a disabling is enforced within that bound."""

    def __init__(self, blacklist: BlacklistUseCases, cache: Cache, ttl_seconds: float) -> None:
        self._blacklist = blacklist
        self._cache = cache
        self._ttl = ttl_seconds

    def check(self, principal: Principal) -> None:
        key = f"{principal.subject}|{principal.email.lower()}"
        cached = self._cache.get("access", key) if self._ttl > 0 else None
        if cached is None:
            decision = self._blacklist.check_access(principal.subject, principal.email)
            if self._ttl > 0:
                self._cache.set("access", key, f"{int(decision.allowed)}:{decision.reason}", self._ttl)
        else:
            allowed, _, reason = cached.decode().partition(":")
            decision = AccessDecision(allowed == "1", reason)
        if not decision.allowed:
            raise errors.PermissionDenied("this account may not use DevInsider", reason=decision.reason)

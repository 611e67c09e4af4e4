"""Keycloak webhook: signature, replay and staleness checks, then the change to the user.

An admin event whose representation has `enabled: false` marks the user disabled (the access rule
refuses it, `DISABLED`) and `enabled: true` lifts it, as the reconciliation does from the users listing.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from datetime import timedelta

import structlog

from devinsider_common.clock import as_utc
from devinsider_common.ids import new_id
from devinsider_common.webhooks import verify_signature
from user_service.domain.keycloak_event import KeycloakEvent, KeycloakEventKind, parse_keycloak_event
from user_service.domain.model import Profile, User, UserState
from user_service.service_layer.ports import Clock, UowFactory, UserUnitOfWork

log = structlog.get_logger("user.keycloak")


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    OUT_OF_ORDER = "out_of_order"
    IGNORED = "ignored"


class KeycloakWebhook:
    def __init__(self, uow: UowFactory, clock: Clock, secret: str, max_age: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._secret = secret
        self._max_age = max_age

    def receive(self, body: bytes, signature: str | None) -> Outcome:
        """Apply one signed event; a replayed, stale or irrelevant event changes nothing."""
        verify_signature(body, signature, self._secret)
        event = parse_keycloak_event(body)
        now = self._clock()
        if abs(now - event.time) > self._max_age:
            log.warning("keycloak.stale_event", event_id=event.id, event_time=event.time.isoformat())
            return Outcome.STALE
        with self._uow() as uow:
            if not uow.keycloak_events.record(event.id, event.raw_type, now):
                return Outcome.DUPLICATE
            outcome = self._apply(uow, event) if event.kind is not KeycloakEventKind.IGNORED else Outcome.IGNORED
            uow.commit()
        log.info("keycloak.event", event_id=event.id, type=event.raw_type, outcome=outcome.value)
        return outcome

    def _apply(self, uow: UserUnitOfWork, event: KeycloakEvent) -> Outcome:
        user = uow.users.get_by_subject(event.subject, lock=True)
        if user is None:
            return self._create(uow, event)
        if event.kind is KeycloakEventKind.LOGIN:
            return self._sign_in(uow, user, event)
        if event.kind is KeycloakEventKind.VERIFY_EMAIL:
            return self._verify_email(uow, user)
        if user.last_event_at is not None and as_utc(user.last_event_at) >= event.time:
            return Outcome.OUT_OF_ORDER  # an older event delivered late must not undo a newer one
        now = self._clock()
        if event.deletes:
            deleted = uow.users.save(replace(user, state=UserState.DELETED, updated_at=now, last_event_at=event.time))
            uow.events.user_deleted(deleted)
            return Outcome.APPLIED
        profile = replace(
            user.profile,
            given_name=event.given_name[:100] or user.profile.given_name,
            family_name=event.family_name[:100] or user.profile.family_name,
        )
        changed = [f for f in ("given_name", "family_name") if getattr(profile, f) != getattr(user.profile, f)]
        if event.email and event.email != user.email:
            changed.append("email")
        verified = user.email_verified if event.email_verified is None else event.email_verified
        if verified != user.email_verified:
            changed.append("email_verified")
        disabled = user.disabled if event.enabled is None else not event.enabled
        if disabled != user.disabled:
            changed.append("disabled")
        updated = replace(
            user,
            email=event.email or user.email,
            email_verified=verified,
            disabled=disabled,
            profile=profile,
            updated_at=now,
            last_event_at=event.time,
        )
        updated = uow.users.save(updated)
        if changed:
            uow.events.user_updated(updated, changed)
        return Outcome.APPLIED

    def _create(self, uow: UserUnitOfWork, event: KeycloakEvent) -> Outcome:
        """Any event but a deletion creates the user it names (its REGISTER may be late or lost)."""
        if event.deletes:
            return Outcome.IGNORED
        now = self._clock()
        user = User(
            id=new_id(),
            subject=event.subject,
            email=event.email,
            profile=Profile(given_name=event.given_name[:100], family_name=event.family_name[:100]),
            created_at=now,
            updated_at=now,
            email_verified=bool(event.email_verified) or event.kind is KeycloakEventKind.VERIFY_EMAIL,
            last_login_at=event.time if event.kind is KeycloakEventKind.LOGIN else None,
            disabled=event.enabled is False,
            # A sign-in or a verification orders no profile: the REGISTER sent with it still applies after it.
            last_event_at=event.time if event.changes_profile else None,
        )
        uow.users.add(user)
        uow.events.user_created(user)
        return Outcome.APPLIED

    def _sign_in(self, uow: UserUnitOfWork, user: User, event: KeycloakEvent) -> Outcome:
        signed_in = user.signed_in(event.time)
        if signed_in is None:
            return Outcome.OUT_OF_ORDER
        saved = uow.users.save(replace(signed_in, updated_at=self._clock()))
        uow.events.user_updated(saved, ["last_login_time"])
        return Outcome.APPLIED

    def _verify_email(self, uow: UserUnitOfWork, user: User) -> Outcome:
        """Keycloak sends VERIFY_EMAIL only once the address is verified: setting it again changes nothing."""
        if user.email_verified:
            return Outcome.APPLIED
        saved = uow.users.save(replace(user, email_verified=True, updated_at=self._clock()))
        uow.events.user_updated(saved, ["email_verified"])
        return Outcome.APPLIED

"""The user's notification preferences: read them (the defaults until changed), change some."""

from __future__ import annotations

from devinsider_common.auth.principal import Principal
from notification_service.domain.preferences import PreferenceChanges, Preferences, updated
from notification_service.service_layer.common import Clock, UowFactory, own_user
from notification_service.service_layer.ports import CallerIdentity


class PreferenceUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, identity: CallerIdentity) -> None:
        self._uow = uow
        self._clock = clock
        self._identity = identity

    def get(self, principal: Principal, user: str) -> Preferences:
        owner = own_user(self._identity, principal, user, "name")
        with self._uow(read_only=True) as uow:
            return uow.preferences.get(owner) or Preferences(owner)

    def update(self, principal: Principal, user: str, changes: PreferenceChanges, paths: frozenset[str]) -> Preferences:
        owner = own_user(self._identity, principal, user, "notification_preferences.name")
        with self._uow() as uow:
            current = uow.preferences.get(owner) or Preferences(owner)
            result = updated(current, changes, paths, self._clock())
            uow.preferences.save(result)
            uow.commit()
        return result

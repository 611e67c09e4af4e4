"""Use cases on users: the caller's own user (created on first sight), profiles, directory."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, overload

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import create_once
from user_service.domain.model import Profile, User, UserState, UserView
from user_service.service_layer.ports import Clock, UowFactory


class UserUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, limits: ListLimits) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits

    def me(self, principal: Principal) -> User:
        """The caller's user; a valid token for an unknown subject creates it from the claims. When a
        concurrent first call created the same subject, that user is the answer."""
        return create_once(
            lambda: self._get_or_create(principal, create=True),
            lambda: self._get_or_create(principal, create=False),
            lambda _: errors.Conflict("the user is being created concurrently; retry", reason="CONCURRENT_CREATE"),
        )

    @overload
    def _get_or_create(self, principal: Principal, create: Literal[True]) -> User: ...
    @overload
    def _get_or_create(self, principal: Principal, create: Literal[False]) -> User | None: ...
    def _get_or_create(self, principal: Principal, create: bool) -> User | None:
        """The caller's user, its roles brought in step with the token's; created when `create`."""
        roles = tuple(sorted(principal.roles))
        with self._uow(read_only=True) as reading:  # the warm path: one round trip, nothing to write
            user = reading.users.get_by_subject(principal.subject)
        if user is not None and user.roles == roles:
            return user
        if user is None and not create:
            return None
        with self._uow() as uow:
            user = uow.users.get_by_subject(principal.subject)
            if user is not None and user.roles == roles:
                return user  # a concurrent call wrote it meanwhile
            now = self._clock()
            if user is None:
                if not create:
                    return None
                user = User(
                    id=new_id(),
                    subject=principal.subject,
                    email=principal.email.lower(),
                    profile=Profile(given_name=principal.given_name[:100], family_name=principal.family_name[:100]),
                    roles=roles,
                    created_at=now,
                    updated_at=now,
                    email_verified=principal.email_verified,  # as the token says; Keycloak's events keep it after
                )
                uow.users.add(user)
                uow.events.user_created(user)
            else:  # roles changed in Keycloak since the last call: keep them in step
                user = uow.users.save(replace(user, roles=roles, updated_at=now))
                uow.events.user_updated(user, ["roles"])
            uow.commit()
            return user

    def update_me(self, principal: Principal, changes: Profile, fields: frozenset[str]) -> User:
        current = self.me(principal)
        with self._uow() as uow:
            user = uow.users.get_by_subject(principal.subject, lock=True) or current
            updated, changed = user.with_profile(changes, fields)
            if not changed:
                return user
            updated = uow.users.save(replace(updated, updated_at=self._clock()))
            uow.events.user_updated(updated, changed)
            uow.commit()
            return updated

    def get_user(self, principal: Principal, user_id: str) -> UserView:
        """A user that is not deleted, in full to themselves, staff and services, else its public profile."""
        with self._uow(read_only=True) as uow:
            user = uow.users.get(user_id)
        if user is None or user.state is UserState.DELETED:
            raise errors.NotFound(f"users/{user_id} does not exist", reason="USER_NOT_FOUND")
        return UserView.for_caller(user, principal.subject, principal.is_staff_or_service)

    def list_users(
        self, page_size: int, page_token: str, email_suffix: str, state: UserState | None
    ) -> tuple[list[User], str]:
        filters = {"email_suffix": email_suffix, "state": state.value if state else ""}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.users.list_after(window, email_suffix, state)
        return finish_window(window, found)

"""What the user use cases need from the outside: one unit of work over the service's stores and its
events, and Keycloak's directory of users (the reconciliation). The user service calls no other
service.

SQL: `service_layer.unit_of_work.SqlUserUnitOfWork` and `adapters/`; Keycloak:
`adapters.keycloak_admin.KeycloakAdminDirectory`; tests: `tests/fakes.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from devinsider_common import errors
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from user_service.domain.blacklist import BlacklistEntry, BlacklistKind
from user_service.domain.model import User, UserState
from user_service.domain.reconciliation import KeycloakAccount
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest

Clock = Callable[[], datetime]


class UserStore(Protocol):
    def get(self, user_id: str) -> User | None: ...

    def get_by_subject(self, subject: str, lock: bool = False) -> User | None: ...

    def add(self, user: User) -> None:
        """Raises DuplicateRecord when the subject already has a user."""
        ...

    def save(self, user: User) -> User:
        """Write `user` if its version is still the stored one, and return it with the next version;
        a concurrent change is `errors.Conflict` (CONCURRENT_UPDATE)."""
        ...

    def list_after(self, window: ListWindow, email_suffix: str, state: UserState | None) -> list[User]:
        """Users by id (oldest first), `window.size + 1` at most; the suffix ignores case."""
        ...


class ProVerificationStore(Protocol):
    def add(self, request: ProVerification) -> None:
        """Raises DuplicateRecord for a second request of the user with the same idempotency key."""
        ...

    def get(self, request_id: str, lock: bool = False) -> ProVerification | None: ...

    def find(self, user_id: str, idempotency_key: str = "", pending: bool = False) -> ProVerification | None: ...

    def save_decision(self, request: ProVerification) -> None:
        """Store the state, reviewer, rejection reason and decision time of `request`."""
        ...

    def list_after(
        self, window: ListWindow, user_id: str | None, state: ProVerificationState | None
    ) -> list[ProVerification]: ...


class SupportRequestStore(Protocol):
    def add(self, request: SupportRequest) -> None:
        """Raises DuplicateRecord for a second request of the user with the same idempotency key."""
        ...

    def find(self, user_id: str, idempotency_key: str) -> SupportRequest | None: ...

    def created_since(self, user_id: str, since: datetime, limit: int) -> list[datetime]:
        """Creation times of the user's requests after `since`, newest first, `limit` at most."""
        ...

    def list_after(self, window: ListWindow) -> list[SupportRequest]: ...


class BlacklistStore(Protocol):
    def add(self, entry: BlacklistEntry) -> None:
        """Raises DuplicateRecord when the kind and value are already blacklisted."""
        ...

    def find(self, kind: BlacklistKind, value: str) -> BlacklistEntry | None: ...

    def get(self, entry_id: str) -> BlacklistEntry | None: ...

    def remove(self, entry_id: str) -> None: ...

    def list_after(self, window: ListWindow, kind: BlacklistKind | None) -> list[BlacklistEntry]: ...

    def matching(self, kind: BlacklistKind, candidates: set[str]) -> set[str]:
        """Which of `candidates` are blacklisted under `kind`."""
        ...


class KeycloakEventStore(Protocol):
    def record(self, event_id: str, event_type: str, received_at: datetime) -> bool:
        """Remember an applied event: False (and nothing written) for an id seen before. The unit of
        work stays usable either way."""
        ...


class UserEvents(Protocol):
    """The service's events, written with the change that caused them (the outbox)."""

    def user_created(self, user: User, welcome: bool = True) -> None:
        """The new user, and its welcome mail unless `welcome` is false."""
        ...

    def user_updated(self, user: User, changed: list[str]) -> None: ...

    def user_deleted(self, user: User) -> None: ...

    def pro_verification_changed(self, request: ProVerification, user: User) -> None: ...

    def support_request_created(self, request: SupportRequest, user: User) -> None: ...

    def blacklist_changed(self, entry: BlacklistEntry, removed: bool) -> None: ...


class UserUnitOfWork(UnitOfWork, Protocol):
    """One transaction over the user service's stores and its outbox."""

    @property
    def users(self) -> UserStore: ...

    @property
    def pro_verifications(self) -> ProVerificationStore: ...

    @property
    def support_requests(self) -> SupportRequestStore: ...

    @property
    def blacklist(self) -> BlacklistStore: ...

    @property
    def keycloak_events(self) -> KeycloakEventStore: ...

    @property
    def events(self) -> UserEvents: ...


UowFactory = UnitOfWorkFactory[UserUnitOfWork]


class KeycloakRefused(errors.Unavailable):
    """Keycloak refuses the service's credentials even with a fresh token (401), or lets them see no users
    (403): no run can succeed until the client, its secret or its `view-users` role are fixed."""


class KeycloakDirectory(Protocol):
    """The users of the realm, as Keycloak's admin API shows them. Any call may raise `KeycloakRefused`."""

    def pages(self) -> Iterable[Sequence[KeycloakAccount]]:
        """Every user, a page at a time. `errors.Unavailable` (raised at any page) when the listing cannot
        be completed: the pages already given are true, but their sum is not the realm."""
        ...

    def exists(self, subject: str) -> bool:
        """Whether the realm has a user of this id; `errors.Unavailable` when Keycloak cannot tell."""
        ...

"""What the company use cases need from the outside: billing's unlocks and a place for logos."""

from __future__ import annotations

from typing import Protocol


class UnlockChecker(Protocol):
    """Whether an organisation the viewer belongs to unlocked a company's contact details."""

    def has_unlocked(self, target: str, subject: str) -> bool:
        """`target` is `companies/{id}`; `subject` the viewer's Keycloak subject."""
        ...


class NoUnlocks:
    """The default while no billing service is configured: nobody unlocked anything."""

    def has_unlocked(self, target: str, subject: str) -> bool:
        return False


class LogoStorage(Protocol):
    """Where logo bytes live (local disk by default; an object store in production)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

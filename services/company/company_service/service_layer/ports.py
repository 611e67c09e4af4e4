"""What the company use cases need from the outside: billing's unlocks and a place for logos."""

from __future__ import annotations

from typing import Protocol

# Billing's unlocks are asked the same way by every page service (devinsider_common.pages.unlocks).
from devinsider_common.pages.unlocks import NoUnlocks as NoUnlocks
from devinsider_common.pages.unlocks import UnlockChecker as UnlockChecker


class LogoStorage(Protocol):
    """Where logo bytes live (local disk by default; an object store in production)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

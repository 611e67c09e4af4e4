"""The contact service's use cases as `bootstrap.build_app` wires them, on the in-memory unit of work and
fake ports (tests/fakes.py), with what a test does around them: act as pages' members, unlock pages (as
billing's events would), send and answer requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contact_service.bootstrap import build_app
from contact_service.domain.requests import ContactRequest
from contact_service.service_layer.app import ContactApp
from contact_service.settings import ContactSettings
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.ports import DirectoryUser
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.entitlements import FakeEntitlements
from devinsider_common.testing.memory import MemoryStore, MemoryUsers
from devinsider_common.testing.neighbours import FakeBlockList, FakePageAccess
from devinsider_common.testing.tokens import principal

from .fakes import FakeContactUnitOfWork, FakePageDirectory, Published, published

FUND = PageName(PageKind.INVESTOR, "fund-1")
ISV = PageName(PageKind.COMPANY, "isv-1")
OTHER_ISV = PageName(PageKind.COMPANY, "isv-2")
PROGRAM = PageName(PageKind.PROGRAM, "program-1")
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
STAFF = principal("kc-staff", roles=("admin",))


def settings(**overrides: Any) -> ContactSettings:
    values: dict[str, Any] = {"user_target": "", "contact_request_rate_limit": 3}
    return ContactSettings(**(values | overrides))


@dataclass
class Contact:
    """The app on fakes, and what a test does around it."""

    store: MemoryStore = field(default_factory=MemoryStore)
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))
    config: ContactSettings = field(default_factory=settings)
    access: FakePageAccess = field(default_factory=FakePageAccess)
    blocks: FakeBlockList = field(default_factory=FakeBlockList)
    pages: FakePageDirectory = field(default_factory=FakePageDirectory)
    users: MemoryUsers = field(default_factory=MemoryUsers)
    entitlements: FakeEntitlements = field(default_factory=FakeEntitlements)

    def __post_init__(self) -> None:
        self.app: ContactApp = build_app(
            self.config,
            self.unit_of_work,
            self.clock,
            self.access,
            self.blocks,
            self.pages,
            self.users,
            entitlements=self.entitlements,
        )

    def unit_of_work(self, read_only: bool = False) -> FakeContactUnitOfWork:
        return FakeContactUnitOfWork(self.store, read_only)

    def member(self, page: PageName, subject: str, role: PageRole = PageRole.OWNER, refusal: str = "") -> Principal:
        """A member of `page` with `role`, known to the user directory as `users/{subject}`."""
        self.access.add_member(page, subject, role)
        email = f"{subject}@example.com"
        self.users.add(DirectoryUser(f"users/{subject}", subject, subject.title(), email, refusal))
        return principal(subject, roles=("isv", "investor", "program"), email=email)

    def unlock(self, unlocker: PageName, target: PageName, at: datetime | None = None) -> str:
        """What billing's UnlockCreated leaves in the projection."""
        name = unlocker.child("unlocks", new_id())
        with self.unit_of_work() as uow:
            uow.unlocks.record(name, target.name, unlocker.name, at or self.clock())
            uow.commit()
        return name

    def send(
        self,
        sender_member: Principal,
        target: PageName,
        message: str = "We would like to talk about your next round.",
        contact: str | None = None,
        request_id: str | None = None,
        sender: PageName = FUND,
    ) -> ContactRequest:
        contact = contact or f"users/{sender_member.subject}"
        return self.app.requests.create(
            sender_member, sender, target, message, contact, request_id or f"req-{new_id()}"
        )

    def published(self, kind: str | None = None) -> list[Published]:
        return published(self.store, kind)

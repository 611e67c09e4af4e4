"""The notification app on the in-memory unit of work (tests/fakes.py) and a fake clock: events go in
through the consumer's handler (read by the real event reader), use cases are called with principals."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from devinsider_common.auth.principal import Principal
from devinsider_common.consumer import Delivery
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.memory import MemoryStore
from devinsider_common.testing.tokens import principal
from notification_service.bootstrap import build_app
from notification_service.domain.notifications import Notification
from notification_service.service_layer.app import NotificationApp
from notification_service.settings import NotificationSettings

from .events import envelope
from .fakes import FakeNotificationUnitOfWork, SentMail, mails

# A Tuesday, 10:00 UTC: after the day's digest time (08:00).
TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
_messages = itertools.count()


class SubjectIdentity:
    """`CallerIdentity` of the tests: a caller `kc-<id>` is the user `<id>` (as events name them)."""

    def user_of(self, caller: Principal) -> str:
        return "" if caller.is_service else caller.subject.removeprefix("kc-")


@dataclass
class World:
    settings: NotificationSettings = field(default_factory=lambda: NotificationSettings(_env_file=None))  # type: ignore[call-arg]
    store: MemoryStore = field(default_factory=MemoryStore)
    clock: FakeClock = field(default_factory=lambda: FakeClock(TUESDAY))

    def __post_init__(self) -> None:
        self.app: NotificationApp = build_app(self.settings, self.uow, self.clock, SubjectIdentity())

    def uow(self, read_only: bool = False) -> FakeNotificationUnitOfWork:
        return FakeNotificationUnitOfWork(self.store, read_only)

    def deliver(self, event: Message, *, message_id: str = "", queue: str = "notification.test", **at: Any) -> bool:
        """Hand `event` to the consumer, as RabbitMQ would; True when applied."""
        message_id = message_id or f"m{next(_messages)}"
        wrapped = envelope(event, at=at.get("at") or self.clock(), event_id=message_id)
        return self.app.consumer(Delivery(queue, message_id, wrapped, 1))

    def caller(self, user: str, roles: tuple[str, ...] = ("isv",)) -> Principal:
        return principal(f"kc-{user}", roles)

    def inbox(self, user: str, **filters: Any) -> list[Notification]:
        return self.app.notifications.list(
            self.caller(user), "me", 50, "", filters.get("unread_only", False), filters.get("category")
        ).items

    def unread(self, user: str) -> int:
        return self.app.notifications.list(self.caller(user), "me", 1, "", False, None).unread_count

    def mails(self, template: str | None = None) -> list[SentMail]:
        return [m for m in mails(self.store) if template is None or m.template == template]

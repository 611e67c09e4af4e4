"""The user's in-app list: read it (newest first, with the unread count), mark one or all read."""

from __future__ import annotations

from dataclasses import dataclass

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pagination import ListLimits, finish_window, list_window
from notification_service.domain.notifications import Notification
from notification_service.domain.preferences import Category
from notification_service.service_layer.common import Clock, UowFactory, own_user
from notification_service.service_layer.ports import CallerIdentity


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    next_page_token: str
    unread_count: int


def _not_found(user: str, notification_id: str) -> errors.NotFound:
    return errors.NotFound(
        f"users/{user}/notifications/{notification_id} does not exist", reason="NOTIFICATION_NOT_FOUND"
    )


class NotificationUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, identity: CallerIdentity, limits: ListLimits) -> None:
        self._uow = uow
        self._clock = clock
        self._identity = identity
        self._limits = limits

    def list(
        self,
        principal: Principal,
        user: str,
        page_size: int,
        page_token: str,
        unread_only: bool,
        category: Category | None,
    ) -> NotificationPage:
        recipient = own_user(self._identity, principal, user, "parent")
        filters = {"unread_only": unread_only, "category": int(category) if category else 0}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.notifications.list_after(recipient, window, unread_only, category)
            unread = uow.notifications.unread_count(recipient)
        items, token = finish_window(window, found)
        return NotificationPage(items, token, unread)

    def get(self, principal: Principal, user: str, notification_id: str) -> Notification:
        recipient = own_user(self._identity, principal, user, "name")
        with self._uow(read_only=True) as uow:
            found = uow.notifications.get(recipient, notification_id)
        if found is None:
            raise _not_found(recipient, notification_id)
        return found

    def mark_read(self, principal: Principal, user: str, notification_id: str) -> Notification:
        recipient = own_user(self._identity, principal, user, "name")
        with self._uow() as uow:
            found = uow.notifications.get(recipient, notification_id)
            if found is None:
                raise _not_found(recipient, notification_id)
            read = found.mark_read(self._clock())
            if read is not found:
                uow.notifications.mark_read(read)
                uow.commit()
        return read

    def mark_all_read(
        self, principal: Principal, user: str, category: Category | None, through: str | None
    ) -> tuple[int, int]:
        """(how many this marked read, how many stay unread)."""
        recipient = own_user(self._identity, principal, user, "parent")
        with self._uow() as uow:
            marked = uow.notifications.mark_all_read(recipient, category, through, self._clock())
            unread = uow.notifications.unread_count(recipient)
            uow.commit()
        return marked, unread

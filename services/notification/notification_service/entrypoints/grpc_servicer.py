"""NotificationService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

import grpc

from devinsider.notification.v1 import notification_pb2 as pb
from devinsider.notification.v1 import notification_pb2_grpc
from devinsider_common import errors
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, optional_enum
from devinsider_common.pages.names import is_id
from notification_service.adapters import proto_mapping as mapping
from notification_service.domain.preferences import PATHS, Category
from notification_service.service_layer.app import NotificationApp

PREFERENCES = "notificationPreferences"


def _parts(name: str, path: str, shape: tuple[str, ...]) -> list[str]:
    """The ids of `name` shaped like `shape` (`("users", "*", "notifications", "*")`)."""
    parts = name.split("/")
    fits = len(parts) == len(shape) and all(
        is_id(part) if expected == "*" else part == expected for part, expected in zip(parts, shape, strict=True)
    )
    if not fits:
        pattern = "/".join("{id}" if s == "*" else s for s in shape)
        raise errors.InvalidArgument.for_field(path, f"must look like `{pattern}` (`users/me` names the caller)")
    return [part for part, expected in zip(parts, shape, strict=True) if expected == "*"]


def _user(name: str, path: str) -> str:
    return _parts(name, path, ("users", "*"))[0]


def _notification(name: str, path: str) -> tuple[str, str]:
    user, notification = _parts(name, path, ("users", "*", "notifications", "*"))
    return user, notification


class NotificationServicer(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, app: NotificationApp) -> None:
        self._app = app

    def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: grpc.ServicerContext
    ) -> pb.ListNotificationsResponse:
        user = _user(request.parent, "parent")
        category = optional_enum(Category, request.category, "category")
        found = self._app.notifications.list(
            caller(), user, request.page_size, request.page_token, request.unread_only, category
        )
        return pb.ListNotificationsResponse(
            notifications=[mapping.notification_to_proto(n) for n in found.items],
            next_page_token=found.next_page_token,
            unread_count=found.unread_count,
        )

    def GetNotification(self, request: pb.GetNotificationRequest, context: grpc.ServicerContext) -> pb.Notification:
        user, notification = _notification(request.name, "name")
        return mapping.notification_to_proto(self._app.notifications.get(caller(), user, notification))

    def MarkNotificationRead(
        self, request: pb.MarkNotificationReadRequest, context: grpc.ServicerContext
    ) -> pb.Notification:
        user, notification = _notification(request.name, "name")
        return mapping.notification_to_proto(self._app.notifications.mark_read(caller(), user, notification))

    def MarkAllNotificationsRead(
        self, request: pb.MarkAllNotificationsReadRequest, context: grpc.ServicerContext
    ) -> pb.MarkAllNotificationsReadResponse:
        user = _user(request.parent, "parent")
        category = optional_enum(Category, request.category, "category")
        through = None
        if request.through:
            owner, through = _notification(request.through, "through")
            if owner != user:
                raise errors.InvalidArgument.for_field("through", "must be a notification of `parent`")
        marked, unread = self._app.notifications.mark_all_read(caller(), user, category, through)
        return pb.MarkAllNotificationsReadResponse(marked_count=marked, unread_count=unread)

    def GetNotificationPreferences(
        self, request: pb.GetNotificationPreferencesRequest, context: grpc.ServicerContext
    ) -> pb.NotificationPreferences:
        user = _parts(request.name, "name", ("users", "*", PREFERENCES))[0]
        return mapping.preferences_to_proto(self._app.preferences.get(caller(), user))

    def UpdateNotificationPreferences(
        self, request: pb.UpdateNotificationPreferencesRequest, context: grpc.ServicerContext
    ) -> pb.NotificationPreferences:
        message = request.notification_preferences
        user = _parts(message.name, "notification_preferences.name", ("users", "*", PREFERENCES))[0]
        paths = resolve_update_mask(request.update_mask, message, PATHS, "notification_preferences")
        changes = mapping.changes_from_proto(message)
        return mapping.preferences_to_proto(self._app.preferences.update(caller(), user, changes, paths))

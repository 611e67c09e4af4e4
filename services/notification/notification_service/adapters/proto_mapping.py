"""Domain values <-> devinsider.notification.v1 messages."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from devinsider.notification.v1 import notification_pb2 as pb
from devinsider_common.clock import as_utc
from devinsider_common.grpc.requests import optional_enum
from notification_service.domain.notifications import Notification
from notification_service.domain.preferences import Category, DigestFrequency, PreferenceChanges, Preferences


def _stamp(field: Timestamp, value: object) -> None:
    if value is not None:
        field.FromDatetime(as_utc(value))  # type: ignore[arg-type]


def notification_to_proto(notification: Notification) -> pb.Notification:
    message = pb.Notification(
        name=notification.name,
        category=int(notification.category),  # type: ignore[arg-type]
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        page=notification.page,
        resource=notification.resource,
        params=dict(notification.params),
        read=notification.read,
    )
    _stamp(message.create_time, notification.created_at)
    _stamp(message.read_time, notification.read_at)
    return message


def preferences_to_proto(preferences: Preferences) -> pb.NotificationPreferences:
    message = pb.NotificationPreferences(
        name=preferences.name,
        match_digest_frequency=int(preferences.match_digest),  # type: ignore[arg-type]
        locale=preferences.locale,
    )
    for category in Category:
        channel = preferences.channel(category)
        getattr(message, category.key).CopyFrom(pb.ChannelPreference(in_app=channel.in_app, mail=channel.mail))
    _stamp(message.update_time, preferences.updated_at)
    return message


def changes_from_proto(message: pb.NotificationPreferences) -> PreferenceChanges:
    channels: dict[str, bool | None] = {}
    for category in Category:
        value = getattr(message, category.key)
        for channel in ("in_app", "mail"):
            channels[f"{category.key}.{channel}"] = getattr(value, channel) if value.HasField(channel) else None
    path = "notification_preferences.match_digest_frequency"
    digest = optional_enum(DigestFrequency, message.match_digest_frequency, path)
    return PreferenceChanges(channels, digest, message.locale)

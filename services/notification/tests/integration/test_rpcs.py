"""NotificationService over gRPC on PostgreSQL: names (`users/me`, the caller's own id, anyone else's),
the list with its unread count, marking read, preferences with update masks (proto3 optional channels).
Notifications come from events (handed to the service's consumer handler here; over RabbitMQ in
test_consumers.py)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from devinsider.notification.v1 import notification_pb2 as pb
from devinsider.notification.v1 import notification_pb2_grpc
from devinsider_common.consumer import Delivery
from devinsider_common.testing.tokens import CallerFactory
from notification_service.bootstrap import NotificationService

from .. import events

Stub = notification_pb2_grpc.NotificationServiceStub
ACME, FUND = "companies/acme", "investors/fund"


def feed(service: NotificationService, *messages: object) -> None:
    for n, message in enumerate(messages):
        wrapped = events.envelope(message)  # type: ignore[arg-type]
        assert service.app.consumer(Delivery("notification.test", f"{wrapped.event_id}-{n}", wrapped, 1))


@pytest.fixture
def unlocked(service: NotificationService) -> NotificationService:
    """Ada and Bob are members of Acme, which two pages unlocked."""
    feed(
        service,
        events.member(ACME, "ada"),
        events.member(ACME, "bob"),
        events.unlock(FUND, ACME, "u1"),
        events.unlock("programs/cloud", ACME, "u2"),
    )
    return service


def test_the_caller_lists_their_notifications_and_marks_them_read(
    unlocked: NotificationService, stub: Stub, callers: CallerFactory
) -> None:
    ada = callers("ada").metadata
    listed = stub.ListNotifications(pb.ListNotificationsRequest(parent="users/me", page_size=1), metadata=ada)
    assert listed.unread_count == 2 and listed.next_page_token
    [newest] = listed.notifications
    assert newest.name.startswith("users/ada/notifications/") and newest.category == pb.NOTIFICATION_CATEGORY_UNLOCKS
    assert (newest.kind, newest.page, newest.resource, newest.read) == (
        "unlock.received",
        ACME,
        "programs/cloud",
        False,
    )
    assert newest.HasField("create_time") and not newest.HasField("read_time")
    read = stub.MarkNotificationRead(pb.MarkNotificationReadRequest(name=newest.name), metadata=ada)
    assert read.read and read.HasField("read_time")
    assert stub.GetNotification(pb.GetNotificationRequest(name=newest.name), metadata=ada) == read
    again = stub.ListNotifications(pb.ListNotificationsRequest(parent="users/ada", unread_only=True), metadata=ada)
    assert again.unread_count == 1 and [n.resource for n in again.notifications] == [FUND]
    marked = stub.MarkAllNotificationsRead(pb.MarkAllNotificationsReadRequest(parent="users/me"), metadata=ada)
    assert (marked.marked_count, marked.unread_count) == (1, 0)
    bob = stub.ListNotifications(pb.ListNotificationsRequest(parent="users/me"), metadata=callers("bob").metadata)
    assert bob.unread_count == 2  # Bob's are his own


def test_nobody_reaches_another_users_notifications(
    unlocked: NotificationService, stub: Stub, callers: CallerFactory
) -> None:
    ada, bob = callers("ada").metadata, callers("bob").metadata
    [newest, _] = stub.ListNotifications(pb.ListNotificationsRequest(parent="users/me"), metadata=ada).notifications
    calls: list[Callable[[], object]] = [
        lambda: stub.ListNotifications(pb.ListNotificationsRequest(parent="users/ada"), metadata=bob),
        lambda: stub.GetNotification(pb.GetNotificationRequest(name=newest.name), metadata=bob),
        lambda: stub.MarkNotificationRead(pb.MarkNotificationReadRequest(name=newest.name), metadata=bob),
        lambda: stub.MarkAllNotificationsRead(pb.MarkAllNotificationsReadRequest(parent="users/ada"), metadata=bob),
        lambda: stub.GetNotificationPreferences(
            pb.GetNotificationPreferencesRequest(name="users/ada/notificationPreferences"), metadata=bob
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    mine = newest.name.replace("users/ada/", "users/me/")
    with pytest.raises(grpc.RpcError) as missing:  # Ada's id under Bob's name: no such notification of Bob's
        stub.GetNotification(pb.GetNotificationRequest(name=mine), metadata=bob)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.ListNotificationsRequest(parent="users"), "parent"),
        (pb.ListNotificationsRequest(parent="users/me", category=42), "category"),  # type: ignore[arg-type]
        (pb.MarkAllNotificationsReadRequest(parent="users/me", through="users/bob/notifications/x"), "through"),
    ],
)
def test_bad_requests_name_their_field(
    service: NotificationService, stub: Stub, callers: CallerFactory, request_: Message, field: str
) -> None:
    ada = callers("ada").metadata
    with pytest.raises(grpc.RpcError) as refused:
        if isinstance(request_, pb.ListNotificationsRequest):
            stub.ListNotifications(request_, metadata=ada)
        else:
            assert isinstance(request_, pb.MarkAllNotificationsReadRequest)
            stub.MarkAllNotificationsRead(request_, metadata=ada)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in (refused.value.details() or "")


def test_preferences_change_field_by_field(service: NotificationService, stub: Stub, callers: CallerFactory) -> None:
    ada, name = callers("ada").metadata, "users/me/notificationPreferences"
    defaults = stub.GetNotificationPreferences(pb.GetNotificationPreferencesRequest(name=name), metadata=ada)
    assert defaults.name == "users/ada/notificationPreferences" and not defaults.HasField("update_time")
    assert (defaults.matches.in_app, defaults.matches.mail, defaults.locale) == (True, True, "en")
    assert defaults.match_digest_frequency == pb.DIGEST_FREQUENCY_DAILY
    # No mask: the fields the body sets, a `false` included (proto3 optional), and nothing else.
    body = pb.NotificationPreferences(name=name, unlocks=pb.ChannelPreference(mail=False), locale="fr")
    changed = stub.UpdateNotificationPreferences(
        pb.UpdateNotificationPreferencesRequest(notification_preferences=body), metadata=ada
    )
    assert (changed.unlocks.in_app, changed.unlocks.mail, changed.locale) == (True, False, "fr")
    assert changed.HasField("update_time") and changed.billing.mail
    masked = pb.UpdateNotificationPreferencesRequest(
        notification_preferences=pb.NotificationPreferences(
            name=name, match_digest_frequency=pb.DIGEST_FREQUENCY_WEEKLY, locale="de"
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["match_digest_frequency", "unlocks.mail"]),
    )
    changed = stub.UpdateNotificationPreferences(masked, metadata=ada)  # unlocks.mail named, unset: back on
    assert (changed.match_digest_frequency, changed.unlocks.mail, changed.locale) == (
        pb.DIGEST_FREQUENCY_WEEKLY,
        True,
        "fr",
    )
    for paths in (["matches"], ["name"], ["update_time"]):
        bad = pb.UpdateNotificationPreferencesRequest(
            notification_preferences=pb.NotificationPreferences(name=name),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        )
        with pytest.raises(grpc.RpcError) as refused:
            stub.UpdateNotificationPreferences(bad, metadata=ada)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

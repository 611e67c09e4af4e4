"""The notification service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from notification_service.service_layer.common import NotificationConfig
from notification_service.service_layer.consumers import EventConsumer
from notification_service.service_layer.jobs import DigestJob, RetentionJob
from notification_service.service_layer.notifications import NotificationUseCases
from notification_service.service_layer.preferences import PreferenceUseCases


@dataclass(frozen=True)
class NotificationApp:
    config: NotificationConfig
    notifications: NotificationUseCases
    preferences: PreferenceUseCases
    consumer: EventConsumer
    digests: DigestJob
    retention: RetentionJob

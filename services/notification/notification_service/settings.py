"""The notification service's settings: the shared ones, where its links point, the digest time, when
credits count as low, how long notifications are kept."""

from __future__ import annotations

from pydantic import Field

from devinsider_common.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    grpc_port: int = 50058
    # The web app: notifications and mails link to `{APP_URL}/{resource name}`.
    app_url: str = "http://localhost:3000"
    # The match digest: the hour (UTC) of the daily digest (Mondays for the weekly one), and how often the
    # job looks for digests due (once across replicas; a user gets one mail per period however often it runs).
    digest_hour_utc: int = Field(default=8, ge=0, le=23)
    digest_job_interval_seconds: float = Field(default=300.0, gt=0)
    # An unlock leaving the unlocking page this many credits or fewer tells its owners and admins.
    credits_low_threshold: int = Field(default=1, ge=0)
    # Notifications older than this are deleted (hourly job); 0 keeps them.
    notification_retention_days: float = Field(default=180.0, ge=0)
    retention_job_interval_seconds: float = Field(default=3600.0, gt=0)

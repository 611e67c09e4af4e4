"""`devinsider-notification-service`: run the notification service until SIGTERM."""

from __future__ import annotations

from devinsider_common.runtime import run_service
from notification_service.bootstrap import start
from notification_service.settings import NotificationSettings


def main() -> None:
    run_service(NotificationSettings, "devinsider-notification-service", start)


if __name__ == "__main__":
    main()

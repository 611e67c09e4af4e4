"""`devinsider-user-service`: run the user service until SIGTERM."""

from __future__ import annotations

from devinsider_common.runtime import run_service
from user_service.bootstrap import start
from user_service.settings import UserSettings


def main() -> None:
    run_service(UserSettings, "devinsider-user-service", start)


if __name__ == "__main__":
    main()

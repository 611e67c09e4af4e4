"""`devinsider-contact-service`: run the contact service until SIGTERM."""

from __future__ import annotations

from contact_service.bootstrap import start
from contact_service.settings import ContactSettings
from devinsider_common.runtime import run_service


def main() -> None:
    run_service(ContactSettings, "devinsider-contact-service", start)


if __name__ == "__main__":
    main()

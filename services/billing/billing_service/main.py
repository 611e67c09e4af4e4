"""`devinsider-billing-service`: run the billing service until SIGTERM."""

from __future__ import annotations

from billing_service.bootstrap import start
from billing_service.settings import BillingSettings
from devinsider_common.runtime import run_service


def main() -> None:
    run_service(BillingSettings, "devinsider-billing-service", start)


if __name__ == "__main__":
    main()

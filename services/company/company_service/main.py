"""`devinsider-company-service`: run the company service until SIGTERM."""

from __future__ import annotations

from company_service.bootstrap import start
from company_service.settings import CompanySettings
from devinsider_common.runtime import run_service


def main() -> None:
    run_service(CompanySettings, "devinsider-company-service", start)


if __name__ == "__main__":
    main()

"""`devinsider-investor-service`: run the investor service until SIGTERM."""

from __future__ import annotations

from devinsider_common.runtime import run_service
from investor_service.bootstrap import start
from investor_service.settings import InvestorSettings


def main() -> None:
    run_service(InvestorSettings, "devinsider-investor-service", start)


if __name__ == "__main__":
    main()

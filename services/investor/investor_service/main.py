"""`devinsider-investor-service`: run the investor service until SIGTERM."""

from __future__ import annotations

from devinsider_common.grpc.server import serve_until_signal
from devinsider_common.logging import configure_logging
from devinsider_common.startup import load_settings
from investor_service.bootstrap import start
from investor_service.settings import InvestorSettings


def main() -> None:
    settings = load_settings(InvestorSettings, "devinsider-investor-service")
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    service = start(settings)
    serve_until_signal(service.server)
    service.engine.dispose()


if __name__ == "__main__":
    main()

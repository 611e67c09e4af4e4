"""`devinsider-matching-service`: run the matching service until SIGTERM."""

from __future__ import annotations

from devinsider_common.grpc.server import serve_until_signal
from devinsider_common.logging import configure_logging
from devinsider_common.startup import load_settings
from matching_service.bootstrap import start
from matching_service.settings import MatchingSettings


def main() -> None:
    settings = load_settings(MatchingSettings, "devinsider-matching-service")
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    service = start(settings)
    serve_until_signal(service.server)
    service.engine.dispose()


if __name__ == "__main__":
    main()

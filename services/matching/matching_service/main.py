"""`devinsider-matching-service`: run the matching service until SIGTERM."""

from __future__ import annotations

from devinsider_common.runtime import run_service
from matching_service.bootstrap import start
from matching_service.settings import MatchingSettings


def main() -> None:
    run_service(MatchingSettings, "devinsider-matching-service", start)


if __name__ == "__main__":
    main()

"""`devinsider-program-service`: run the program service until SIGTERM."""

from __future__ import annotations

from devinsider_common.runtime import run_service
from program_service.bootstrap import start
from program_service.settings import ProgramSettings


def main() -> None:
    run_service(ProgramSettings, "devinsider-program-service", start)


if __name__ == "__main__":
    main()

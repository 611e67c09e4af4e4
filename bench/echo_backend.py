"""The echo ceiling's backend as a process of its own (`python -m bench.echo_backend SET PORT`), like a
service: the bench process then drives load without sharing a GIL with it. Ends on SIGTERM."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from bench.calls import ECHO
from devinsider_gateway.testing.echo import EchoBackend


def main() -> None:
    descriptor_set, port = Path(sys.argv[1]), int(sys.argv[2])
    EchoBackend(descriptor_set, ECHO, "bench", port)
    threading.Event().wait()


if __name__ == "__main__":
    main()

"""A daemon thread running a loop until its stop event is set: the outbox relay and the consumer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class BackgroundLoop:
    thread: threading.Thread
    stop_event: threading.Event

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end and wait for it (the loop finishes what it holds first)."""
        self.stop_event.set()
        self.thread.join(timeout)


def start_loop(run: Callable[[threading.Event], None], name: str) -> BackgroundLoop:
    """Start `run(stop_event)` on a daemon thread named `name`."""
    stop_event = threading.Event()
    thread = threading.Thread(target=run, args=(stop_event,), name=name, daemon=True)
    thread.start()
    return BackgroundLoop(thread, stop_event)

"""A tiny TCP forwarder for fault tests: `cut()` drops every connection and stops listening
(the server behind it looks down), `start()` (or `restore()`) listens again on the same port.

Cutting is how the fault tests "stop" RabbitMQ or Redis and "restart" PostgreSQL without touching
the real, shared servers: services connect through the proxy, and a cut both refuses new
connections and kills the established ones (each side sees its socket shut down, as when a server
process dies), so pooled connections are dead when the proxy is restored.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        # Guards `_sockets`, `_listener` and `_generation`: a connection accepted just before a cut
        # must not outlive it (its upstream socket would otherwise join the set after the cut).
        self._lock = threading.Lock()
        self._generation = 0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]

    @property
    def address(self) -> str:
        """`127.0.0.1:<port>`, where clients connect."""
        return f"127.0.0.1:{self.port}"

    @property
    def listening(self) -> bool:
        with self._lock:
            return self._listener is not None

    @property
    def active_connections(self) -> int:
        """Sockets (both sides) of the connections forwarded now; 0 right after a cut."""
        with self._lock:
            return len(self._sockets)

    def retarget(self, target: tuple[str, int]) -> None:
        """Send the connections accepted from now on to `target` (as a balancer that picks a replica
        added since); established connections stay where they are."""
        with self._lock:
            self._target = target

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        with self._lock:
            self._listener = listener
            generation = self._generation
        threading.Thread(target=self._accept, args=(listener, generation), daemon=True).start()

    def restore(self) -> None:
        """Listen again after a cut (the server behind is "back")."""
        self.start()

    def _accept(self, listener: socket.socket, generation: int) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                target = self._target
            try:
                upstream = socket.create_connection(target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)  # the connect timeout must not end idle connections (pooled ones)
            with self._lock:
                if generation != self._generation:  # cut while connecting: this connection died with it
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_RDWR)  # the peer learns at once, as from a dying server
            sink.close()
            with self._lock:
                self._sockets.discard(sink)

    def cut(self) -> None:
        """Stop listening and kill every established connection."""
        with self._lock:
            self._generation += 1
            listener, self._listener = self._listener, None
            sockets = list(self._sockets)
            self._sockets.clear()
        if listener is not None:
            with contextlib.suppress(OSError):  # shutdown, not just close, wakes the blocked accept()
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cut()

"""The fault tests' TCP proxy: forwards, a cut kills established connections and refuses new ones,
a restore listens again on the same port."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from devinsider_common.testing.tcp_proxy import TcpProxy


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(1024):
                connection.sendall(data)

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[:2]
    with contextlib.suppress(OSError):
        server.shutdown(socket.SHUT_RDWR)
    server.close()


def _echo(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return sock.recv(1024)


def test_a_cut_kills_established_connections_and_a_restore_serves_again(echo_server: tuple[str, int]) -> None:
    with TcpProxy(echo_server) as proxy:
        established = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        assert _echo(established, b"ping") == b"ping"
        assert proxy.active_connections == 2

        proxy.cut()
        assert not proxy.listening and proxy.active_connections == 0
        with contextlib.suppress(OSError):  # either an error or end of stream: never an answer
            assert _echo(established, b"after the cut") == b""
        established.close()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2)

        proxy.restore()
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as again:
            assert _echo(again, b"back") == b"back"

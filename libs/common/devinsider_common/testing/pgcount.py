"""A TCP proxy in front of PostgreSQL that counts database round trips on the wire.

It reads the frontend/backend protocol (after the untyped startup packet every message is a 1-byte
type and a 4-byte big-endian length that counts itself). A client waits for the server after a simple
Query ('Q') or a Sync ('S', the end of an extended-protocol batch); each is answered by exactly one
ReadyForQuery ('Z'). A round trip is a 'Q' or 'S' sent while nothing is outstanding: statements
pipelined behind an unanswered one ride the same trip. 'Q' + 'S' messages are counted too
(`syncs`), new connections, and each statement run (the text of a 'Q', or of the statement a Bind
runs). SSL and GSS encryption requests are refused here (the client goes on
in clear text, as `sslmode=prefer` allows), so that the traffic stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

_ENCRYPTION_REQUESTS = {80877103, 80877104}  # SSLRequest, GSSENCRequest
_QUERY, _PARSE, _BIND, _SYNC, _READY = (ord(c) for c in "QPBSZ")
_STATEMENT_CHARS = 300  # of each statement's text kept


@dataclass(frozen=True)
class Counts:
    round_trips: int = 0
    syncs: int = 0  # 'Q' + 'S' messages
    connections: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.round_trips + other.round_trips, self.syncs + other.syncs, self.connections + other.connections
        )

    def __sub__(self, other: Counts) -> Counts:
        return self + Counts(-other.round_trips, -other.syncs, -other.connections)


_TRIP, _PIPELINED, _CONNECTION = Counts(1, 1, 0), Counts(0, 1, 0), Counts(0, 0, 1)


class _Framer:
    """Splits a byte stream into typed messages, across reads: `on_message(type, body)`, the body only
    for the types in `bodies` (else b""), as soon as the message is complete (before it is forwarded)."""

    def __init__(self, on_message: Callable[[int, bytes], None], bodies: frozenset[int] = frozenset()) -> None:
        self._on_message = on_message
        self._bodies = bodies
        self._header = bytearray()
        self._body: bytearray | None = None  # of a message whose body is wanted
        self._left = 0  # body bytes of the current message still to come

    def feed(self, data: bytes) -> None:
        view, at = memoryview(data), 0
        while at < len(view):
            if self._left:
                step = min(self._left, len(view) - at)
                if self._body is not None:
                    self._body += view[at : at + step]
                self._left -= step
                at += step
                if not self._left and self._body is not None:
                    self._on_message(self._header[0], bytes(self._body))
                    self._header.clear()
                continue
            take = min(5 - len(self._header), len(view) - at)
            self._header += view[at : at + take]
            at += take
            if len(self._header) == 5:
                self._left = struct.unpack("!I", self._header[1:5])[0] - 4
                self._body = bytearray() if self._header[0] in self._bodies else None
                if self._body is None or not self._left:
                    self._on_message(self._header[0], b"")
                    self._header.clear()


def _strings(body: bytes, count: int) -> list[str]:
    """The first `count` NUL-terminated strings of a message body."""
    return [part.decode(errors="replace") for part in body.split(b"\0", count)[:count]]


class _Connection:
    """One client connection: the round trips it makes, and the statements it runs (by name once
    prepared: psycopg prepares a statement after a few runs, then sends only its name)."""

    def __init__(self, proxy: PgCountingProxy) -> None:
        self.proxy = proxy
        self.outstanding = 1  # the startup packet is answered by a ReadyForQuery too
        self.prepared: dict[str, str] = {}
        self.client = _Framer(self._client_message, frozenset({_QUERY, _PARSE, _BIND}))
        self.server = _Framer(self._server_message)

    def _client_message(self, kind: int, body: bytes) -> None:
        if kind == _PARSE:
            name, query = _strings(body, 2)
            self.prepared[name] = query
        elif kind == _BIND:
            self.proxy.ran(self.prepared.get(_strings(body, 2)[1], "?"))
        elif kind == _QUERY:
            self.proxy.ran(_strings(body, 1)[0])
        if kind in (_QUERY, _SYNC):
            self.proxy.record(_TRIP if self.outstanding == 0 else _PIPELINED)
            self.outstanding += 1

    def _server_message(self, kind: int, _: bytes) -> None:
        if kind == _READY:
            self.outstanding -= 1


class PgCountingProxy:
    """Listens on 127.0.0.1:`port` (any free one by default) and forwards to `upstream`; runs its own
    event loop in a daemon thread. `counts()` and `statements()` are snapshots; subtract two for a
    window."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._counts = Counts()
        self._statements: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="pg-counting-proxy", daemon=True)

    def start(self) -> PgCountingProxy:
        self._thread.start()
        self._ready.wait(10)
        if not self.port:
            raise RuntimeError("the counting proxy did not start")
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        """Closes the listener and every forwarded connection."""
        if self._server is not None:
            self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def counts(self) -> Counts:
        with self._lock:
            return self._counts

    def statements(self) -> Counter[str]:
        """How often each statement ran (its text, whitespace collapsed and cut)."""
        with self._lock:
            return Counter(self._statements)

    def record(self, more: Counts) -> None:
        with self._lock:
            self._counts = self._counts + more

    def ran(self, statement: str) -> None:
        text = " ".join(statement.split())[:_STATEMENT_CHARS]
        with self._lock:
            self._statements[text] += 1

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            startup = await _startup_packet(client_reader, client_writer)
            if startup is None:
                return
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except (OSError, asyncio.IncompleteReadError):
            client_writer.close()
            return
        self.record(_CONNECTION)
        connection = _Connection(self)
        server_writer.write(startup)
        # Cancelled at stop: ends quietly (asyncio logs a connection handler that ends cancelled).
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                _pump(client_reader, server_writer, connection.client),
                _pump(server_reader, client_writer, connection.server),
            )


async def _startup_packet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes | None:
    """The startup packet (untyped: length, then protocol code), after refusing encryption requests."""
    while True:
        head = await reader.readexactly(8)
        length, code = struct.unpack("!II", head)
        if code not in _ENCRYPTION_REQUESTS:
            return head + await reader.readexactly(length - 8)
        writer.write(b"N")
        await writer.drain()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framer: _Framer) -> None:
    """Forwards until either side closes; each chunk is counted before it is sent on, so a reply is
    counted before the client can react to it."""
    try:
        while data := await reader.read(65536):
            framer.feed(data)
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()

"""The suite bench's counting proxy (devinsider_common/testing/pgcount.py) counts what really crosses the wire to the
real PostgreSQL: one autocommit statement is one round trip, SQLAlchemy's transaction is three (BEGIN,
the statement, COMMIT), a pool's pre-ping one more, statements pipelined behind an unanswered one ride
its trip, and prepared statements are still named by their text."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devinsider_common.testing import infra
from devinsider_common.testing.pgcount import Counts, PgCountingProxy, _Framer

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy() -> Iterator[PgCountingProxy]:
    infra.require("127.0.0.1", 5432, "PostgreSQL")
    url = make_url(infra.POSTGRES_URL)
    running = PgCountingProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield running
    running.stop()


def _url(proxy: PgCountingProxy, driver: str = "postgresql") -> str:
    url = make_url(infra.POSTGRES_URL).set(drivername=driver, host="127.0.0.1", port=proxy.port)
    return url.render_as_string(False)


def test_one_autocommit_statement_is_one_round_trip(proxy: PgCountingProxy) -> None:
    with psycopg.connect(_url(proxy), autocommit=True) as connection:
        assert proxy.counts().connections == 1
        before = proxy.counts()
        assert connection.execute("SELECT 1").fetchall() == [(1,)]
        assert proxy.counts() - before == Counts(round_trips=1, syncs=1)
        before = proxy.counts()
        connection.execute("SELECT %s::int", (2,)).fetchall()  # extended protocol: Parse/Bind/Execute/Sync
        assert proxy.counts() - before == Counts(round_trips=1, syncs=1)


@pytest.mark.parametrize(("pre_ping", "expected"), [(False, 3), (True, 4)])
def test_a_sqlalchemy_transaction_is_begin_statement_commit(
    proxy: PgCountingProxy, pre_ping: bool, expected: int
) -> None:
    engine = create_engine(_url(proxy, "postgresql+psycopg"), pool_pre_ping=pre_ping)
    try:
        with engine.connect() as connection:  # the pool's connection and the dialect's first queries
            connection.execute(text("SELECT 1"))
        before = proxy.counts()
        with engine.begin() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert proxy.counts() - before == Counts(round_trips=expected, syncs=expected)
    finally:
        engine.dispose()


def test_pipelined_statements_ride_one_round_trip(proxy: PgCountingProxy) -> None:
    with psycopg.connect(_url(proxy), autocommit=True) as connection:
        before = proxy.counts()
        with connection.pipeline():  # one Sync when the block ends
            for value in range(3):
                connection.execute("SELECT %s::int", (value,))
        assert (proxy.counts() - before).round_trips == 1


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def _read_until_ready(sock: socket.socket, ready: int) -> None:
    """Reads until `ready` ReadyForQuery messages came."""
    buffer = b""
    while buffer.count(b"Z\x00\x00\x00\x05") < ready:  # ReadyForQuery's type and length
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buffer += chunk


def test_two_queries_sent_before_any_answer_are_one_round_trip_and_two_syncs(proxy: PgCountingProxy) -> None:
    url = make_url(infra.POSTGRES_URL)
    startup = struct.pack("!I", 196608) + b"user\0" + (url.username or "postgres").encode()
    startup += b"\0database\0" + (url.database or "test").encode() + b"\0\0"
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(struct.pack("!I", len(startup) + 4) + startup)
        _read_until_ready(sock, 1)  # trust authentication, then ReadyForQuery
        before = proxy.counts()
        query = _message(b"Q", b"SELECT 1\0")
        sock.sendall(query + query)
        _read_until_ready(sock, 2)
        assert proxy.counts() - before == Counts(round_trips=1, syncs=2)
        sock.sendall(_message(b"X", b""))


def test_statements_are_named_by_their_text_once_prepared(proxy: PgCountingProxy) -> None:
    with psycopg.connect(_url(proxy), autocommit=True, prepare_threshold=0) as connection:
        for value in range(3):  # prepared at once: Parse once, then Bind by name only
            connection.execute("SELECT %s::int AS counted", (value,)).fetchall()
    assert proxy.statements()["SELECT $1::int AS counted"] == 3


def test_the_framer_finds_every_message_across_any_split() -> None:
    stream = _message(b"P", b"s1\0SELECT 1\0\0\0") + _message(b"B", b"\0s1\0" + bytes(6)) + _message(b"S", b"")
    for size in (1, 2, 3, 7, len(stream)):
        seen: list[tuple[int, bytes]] = []
        framer = _Framer(lambda kind, body: seen.append((kind, body)), frozenset(b"P"))  # noqa: B023 - used here
        for at in range(0, len(stream), size):
            framer.feed(stream[at : at + size])
        assert seen == [(ord("P"), b"s1\0SELECT 1\0\0\0"), (ord("B"), b""), (ord("S"), b"")], size

"""Fault tests' building blocks: the suite behind TCP proxies, polling with deadlines, outbox gauges.

PostgreSQL, Redis and RabbitMQ are shared with the rest of the test suite and with other people,
so the fault tests never stop or restart them. Each service connects through a
`devinsider_common.testing.tcp_proxy.TcpProxy` instead; `cut()` refuses new connections and kills
the established ones (what clients see when the server process dies), `restore()` listens again.
That is what "RabbitMQ stopped", "Redis stopped" and "PostgreSQL restarted" mean in these tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse, urlunparse

from sqlalchemy.engine import make_url

from devinsider_common.metrics import REGISTRY
from devinsider_common.testing import infra
from devinsider_common.testing.tcp_proxy import TcpProxy

from ..e2e.suite_stack import SuiteStack, _start_stack

T = TypeVar("T")

# How long a fault test waits for the system to notice an outage or a recovery.
DEADLINE_SECONDS = 20.0


def eventually(check: Callable[[], T | None], what: str, timeout: float = DEADLINE_SECONDS, every: float = 0.05) -> T:
    """Poll `check` until it returns something truthy (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s: {what} (last: {last!r})")


def postgres_url_through(proxy: TcpProxy) -> str:
    """The test database's URL, reached through `proxy`."""
    return make_url(infra.POSTGRES_URL).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def redis_url_through(proxy: TcpProxy) -> str:
    """The test Redis URL (same database number), reached through `proxy`."""
    return urlunparse(urlparse(infra.REDIS_URL)._replace(netloc=proxy.address))


def ensure_listening(proxy: TcpProxy) -> None:
    if not proxy.listening:
        proxy.restore()


@dataclass
class Proxies:
    """One proxy per real server, in front of it; the services connect only through these."""

    postgres: TcpProxy
    redis: TcpProxy
    amqp: TcpProxy

    @classmethod
    def start(cls, stack: ExitStack) -> Proxies:
        proxies = cls(
            TcpProxy(("127.0.0.1", 5432)), TcpProxy(("127.0.0.1", 6379)), TcpProxy((infra.AMQP_HOST, infra.AMQP_PORT))
        )
        for proxy in proxies.all():
            proxy.start()
            stack.callback(proxy.cut)
        return proxies

    def all(self) -> tuple[TcpProxy, TcpProxy, TcpProxy]:
        return (self.postgres, self.redis, self.amqp)

    def restore_all(self) -> None:
        for proxy in self.all():
            ensure_listening(proxy)


@dataclass
class FaultStack:
    """The six services behind Envoy (tests/e2e/suite_stack.py), each reaching PostgreSQL, Redis
    and RabbitMQ through `proxies`; the test's own broker reader and cleanup use the real servers."""

    suite: SuiteStack
    proxies: Proxies


def start_fault_stack(workdir: Path) -> Iterator[FaultStack]:
    """Generator for a fixture: the stack behind fresh proxies; every proxy is listening again
    before the services stop (so they stop as usual), and cut at the very end."""
    with ExitStack() as stack:
        proxies = Proxies.start(stack)
        suite = _start_stack(
            stack,
            workdir,
            database_url=postgres_url_through(proxies.postgres),
            redis_url=redis_url_through(proxies.redis),
            amqp_address=proxies.amqp.address,
            relay_backoff_max_seconds=0.5,  # an outage of seconds delays the events by half a second at most
        )
        stack.callback(proxies.restore_all)
        yield FaultStack(suite, proxies)


def outbox_gauge(name: str, service: str) -> float | None:
    """A `devinsider_outbox_*` gauge of `service` as the in-process services' /metrics would show it
    (None: no sample, e.g. while its database is down)."""
    return REGISTRY.get_sample_value(name, {"service": service})

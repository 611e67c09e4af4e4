"""PostgreSQL "restarted" under load: health follows the database, calls fail UNAVAILABLE while it
is away and succeed again afterwards, without restarting the service.

"Restarted" means the company service's PostgreSQL proxy is cut (new connections refused, every
pooled connection killed, as a server restart does) and then restored; the real PostgreSQL,
shared with other tests, keeps running.

The property: while the database is away, grpc.health.v1 and `/healthz` say NOT_SERVING (503),
and every call that fails fails with UNAVAILABLE (rich status, ErrorInfo reason UNAVAILABLE) —
never UNKNOWN or INTERNAL, including calls whose connection died in the middle of their
transaction; once the proxy is back, health is SERVING again and every call started after that
succeeds, on the same process (the health probe's failed ping invalidates the pool's dead connections).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from company_service.bootstrap import CompanyService, start
from company_service.settings import CompanySettings
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.grpc.status import error_info, from_rpc_error
from devinsider_common.testing.services import TEST_ISSUER, base_settings, bearer
from devinsider_common.testing.tcp_proxy import TcpProxy
from devinsider_gateway.testing.envoy import free_port

from .support import ensure_listening, eventually, postgres_url_through

WORKERS = 4
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass(frozen=True)
class Outcome:
    started: float
    method: str
    code: grpc.StatusCode
    reason: str


@pytest.fixture
def proxied_company(tmp_path: Path, pg_schema: tuple[str, str]) -> Iterator[tuple[CompanyService, TcpProxy]]:
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    values = base_settings(tmp_path, postgres_url_through(proxy), pg_schema[1]) | {
        "upload_dir": tmp_path / "uploads",
        "metrics_port": free_port(),
        "health_check_interval_seconds": 0.1,
    }
    service = start(CompanySettings(**values))  # type: ignore[arg-type]
    try:
        yield service, proxy
    finally:
        ensure_listening(proxy)
        service.stop(grace=0)
        service.engine.dispose()
        proxy.cut()


def _healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _health(channel: grpc.Channel) -> int:
    request = health_pb2.HealthCheckRequest(service=company_pb2.DESCRIPTOR.services_by_name["CompanyService"].full_name)
    return int(health_pb2_grpc.HealthStub(channel).Check(request, timeout=2).status)


def test_health_and_calls_follow_a_database_restart_without_restarting_the_service(
    proxied_company: tuple[CompanyService, TcpProxy], tmp_path: Path
) -> None:
    service, proxy = proxied_company
    metrics_port = service.server.metrics_port
    assert metrics_port is not None
    keys = tmp_path / "keys"
    token = issue_token(keys, TEST_ISSUER, "isv-pg", roles=("isv",), email="pg@example.com")
    channel = grpc.insecure_channel(f"127.0.0.1:{service.port}")
    stub = company_pb2_grpc.CompanyServiceStub(channel)
    known = stub.CreateCompany(
        company_pb2.CreateCompanyRequest(company=company_pb2.Company(display_name="Before")),
        metadata=bearer(token),
        timeout=5,
    ).name
    assert _health(channel) == SERVING and _healthz(metrics_port) == 200

    outcomes: list[Outcome] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        counter = 0
        while not stop.is_set():
            counter += 1
            started = time.monotonic()
            method = "CreateCompany" if counter % 2 else "GetCompany"
            try:
                if method == "GetCompany":
                    stub.GetCompany(company_pb2.GetCompanyRequest(name=known), metadata=bearer(token), timeout=5)
                else:  # one page per founder: a new subject each time
                    founder = issue_token(keys, TEST_ISSUER, f"isv-pg-{worker}-{counter}", roles=("isv",))
                    company = company_pb2.Company(display_name=f"Load {worker}-{counter}")
                    request = company_pb2.CreateCompanyRequest(company=company)
                    stub.CreateCompany(request, metadata=bearer(founder), timeout=5)
                outcomes.append(Outcome(started, method, grpc.StatusCode.OK, ""))
            except grpc.RpcError as error:
                status = from_rpc_error(error)
                info = error_info(status) if status is not None else None
                outcomes.append(Outcome(started, method, error.code(), info.reason if info else ""))

    threads = [threading.Thread(target=load, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    try:
        eventually(lambda: sum(o.code == grpc.StatusCode.OK for o in outcomes) >= 20, "calls succeeding before the cut")
        proxy.cut()  # while calls are in flight: some lose their connection mid-transaction
        eventually(lambda: _health(channel) == NOT_SERVING, "grpc.health.v1 NOT_SERVING")
        eventually(lambda: _healthz(metrics_port) == 503, "/healthz 503")
        down_since = time.monotonic()
        eventually(
            lambda: sum(o.started > down_since for o in outcomes) >= 20, "calls answered while the database is away"
        )
        during = [o for o in outcomes if o.started > down_since]
        assert {o.code for o in during} == {grpc.StatusCode.UNAVAILABLE}, Counter(o.code for o in during)
        assert {o.reason for o in during} == {"UNAVAILABLE"}

        proxy.restore()
        eventually(lambda: _health(channel) == SERVING, "grpc.health.v1 SERVING again")
        eventually(lambda: _healthz(metrics_port) == 200, "/healthz 200 again")
        up_since = time.monotonic()
        eventually(lambda: sum(o.started > up_since for o in outcomes) >= 20, "calls answered after the restart")
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        channel.close()

    codes = Counter(o.code for o in outcomes)
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, codes  # never UNKNOWN / INTERNAL
    after = [o for o in outcomes if o.started > up_since]
    assert {o.code for o in after} == {grpc.StatusCode.OK}, Counter(o.code for o in after)
    assert {o.method for o in after} == {"GetCompany", "CreateCompany"}

"""Scaling in compose: `--scale company=3` adds replicas that the edge finds by DNS and sends reads to, and
that share the logos volume; stopping a replica (SIGTERM: it turns NOT_SERVING, keeps serving while Envoy's
health checks take it out, then drains) under a steady load of idempotent reads fails none of them."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field

import grpc
from prometheus_client.parser import text_string_to_metric_families

from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_gateway.testing.http import request

from ..e2e.suite_stack import create_company, unique
from .conftest import record
from .stack import ComposeStack

GET_COMPANY = ("devinsider.company.v1.CompanyService", "GetCompany")
# The load: a few clients, each pausing between reads (bounded: the machine must not be the bottleneck).
CLIENTS, PAUSE_SECONDS = 4, 0.02
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 48


def handled(address: str) -> float:
    """GetCompany calls the replica at `address` has handled (its /metrics)."""
    with urllib.request.urlopen(f"http://{address}:9100/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "grpc_server_handled"
        for sample in family.samples
        if sample.name.endswith("_total")
        and (sample.labels.get("grpc_service"), sample.labels.get("grpc_method")) == GET_COMPANY
    )


@dataclass
class ReadLoad:
    """Threads reading one page through the edge until stopped; every non-200 answer is kept."""

    stack: ComposeStack
    path: str
    token: str
    succeeded: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = self.stack.call("GET", self.path, token=self.token)
                status, body = response.status, response.body.decode(errors="replace")[:200]
            except OSError as error:  # the edge itself unreachable: a failure too
                status, body = 0, repr(error)
            with self._lock:
                if status == 200:
                    self.succeeded += 1
                else:
                    self.failures.append((status, body))
            time.sleep(PAUSE_SECONDS)

    def start(self) -> ReadLoad:
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def logo_at(address: str, company: str) -> bytes:
    """The company's logo as the replica at `address` serves it (typed stub, no token: logos are public)."""
    with grpc.insecure_channel(f"{address}:50052") as channel:
        request = company_pb2.GetCompanyLogoRequest(name=f"{company}/logo")
        return bytes(company_pb2_grpc.CompanyServiceStub(channel).GetCompanyLogo(request, timeout=10).body.data)


def test_added_replicas_share_logos_get_reads_and_a_stopped_one_fails_none(compose_stack: ComposeStack) -> None:
    compose = compose_stack.compose
    owner = compose_stack.token(unique("scale-owner"))
    company = create_company(compose_stack, owner, displayName="Scaled Co")["name"]
    (first,) = compose.containers("company")

    compose.run("up", "--detach", "--no-build", "--no-recreate", "--scale", "company=3")
    compose.wait_healthy(("company",))
    added = [c for c in compose.containers("company") if c != first]
    assert len(added) == 2
    first_address, added_addresses = compose.address(first), [compose.address(c) for c in added]

    # A logo uploaded through the edge (to any replica) is served by every replica: one volume.
    headers = {"authorization": f"Bearer {owner}", "content-type": "image/png"}
    uploaded = request("POST", compose_stack.url(f"/v1/{company}:uploadLogo"), PNG, headers)
    assert uploaded.status == 200, uploaded.body
    assert {logo_at(address, company) for address in [first_address, *added_addresses]} == {PNG}

    load = ReadLoad(compose_stack, f"/v1/{company}", owner).start()
    try:
        # Envoy re-resolves `company` (STRICT_DNS) and health-checks each new address before sending to it.
        deadline = time.monotonic() + 60
        while not all(handled(a) > 0 for a in added_addresses) and time.monotonic() < deadline:
            time.sleep(0.5)
        added_before_stop = sum(handled(a) for a in added_addresses)
        assert all(handled(a) > 0 for a in added_addresses), "an added replica received no read through the edge"
        assert handled(first_address) > 0

        # SIGTERM to the first replica; docker-compose.yml's stop_grace_period (45 s) covers its drain.
        started = time.monotonic()
        subprocess.run(["docker", "stop", "--time", "45", first], check=True, capture_output=True, timeout=90)
        stop_seconds = time.monotonic() - started
        time.sleep(3.0)  # reads go on once it is gone
    finally:
        load.stop()

    added_after = sum(handled(a) for a in added_addresses)
    record(
        replica_stop={
            "replicas": 3,
            "stop_seconds": round(stop_seconds, 1),
            "reads": load.succeeded + len(load.failures),
            "failed_reads": len(load.failures),
            "added_replicas_reads": added_after,
        }
    )
    assert load.failures == [], load.failures[:5]
    assert load.succeeded > 100
    # It stopped by draining (SIGTERM handled well before the 45 s kill), and the others took the reads.
    assert stop_seconds < 40
    assert added_after > added_before_stop

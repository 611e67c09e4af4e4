"""Closed-loop load in one asyncio loop: C workers, each on its own connection, each sending its next
call as soon as the previous answered, for a fixed time after a warm-up. REST over HTTP/1.1 keep-alive
(a minimal client: Content-Length or chunked bodies), gRPC through grpc.aio with one channel (and so one
HTTP/2 connection) per worker. Every call's latency and outcome is kept per operation. A worker whose
`make_call` returns None has no distinct request left (writes on distinct targets): it stops, counted in
`Tally.exhausted`."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from grpc import aio

from bench.calls import Call


@dataclass
class Tally:
    """Latencies (us) and failures per operation, for the measured window only."""

    latencies: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # "op: status" -> count
    samples: dict[str, str] = field(default_factory=dict)  # "op: status" -> the first one's message
    seconds: float = 0.0
    exhausted: int = 0  # workers that ran out of requests before the end

    def all_latencies(self) -> list[int]:
        return [v for values in self.latencies.values() for v in values]

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


class RestConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, method: str, path: str, body: bytes | None, token: str | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        if token:
            head.append(f"authorization: Bearer {token}")
        if body is not None:
            head += ["content-type: application/json", f"content-length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            parts = []
            while (size := int((await self.reader.readline()).split(b";")[0], 16)) > 0:
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            payload = b"".join(parts)
        else:
            payload = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _measure(
    workers: int,
    duration: float,
    warmup: float,
    make_call: Callable[[int], Call | None],
    send: Callable[[int, Call], Awaitable[tuple[str, str]]],
) -> Tally:
    """`send` answers (outcome, message): "OK" or what failed, and what the server said about it."""
    tally = Tally()
    loop = asyncio.get_running_loop()
    start = loop.time() + warmup
    end = start + duration

    async def worker(index: int) -> None:
        while (now := loop.time()) < end:
            call = make_call(index)
            if call is None:
                tally.exhausted += 1
                return
            began = time.perf_counter()
            outcome, message = await send(index, call)
            micros = int((time.perf_counter() - began) * 1e6)
            if now >= start:
                tally.latencies[call.op].append(micros)
                if outcome != "OK":
                    key = f"{call.op}: {outcome}"
                    tally.failures[call.op] += 1
                    tally.errors[key] += 1
                    tally.samples.setdefault(key, message[:300])

    await asyncio.gather(*(worker(i) for i in range(workers)))
    tally.seconds = duration
    return tally


async def _rest(
    host: str, port: int, workers: int, duration: float, warmup: float, make_call: Callable[[int], Call | None]
) -> Tally:
    connections = [RestConnection(host, port) for _ in range(workers)]

    async def send(index: int, call: Call) -> tuple[str, str]:
        try:
            status, body = await connections[index].call(call.method, call.path, call.body, call.token)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            await connections[index].close()
            return type(error).__name__, str(error)
        return ("OK", "") if status == 200 else (f"HTTP {status}", _message(body))

    try:
        return await _measure(workers, duration, warmup, make_call, send)
    finally:
        for connection in connections:
            await connection.close()


def _message(body: bytes) -> str:
    """The `message` of the edge's JSON error (google.rpc.Status), else the body."""
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")


def _channel_options(target: str) -> list[tuple[str, object]]:
    options: list[tuple[str, object]] = [("grpc.use_local_subchannel_pool", 1)]  # a connection per worker
    if target.startswith("ipv4:"):
        options.append(("grpc.lb_policy_name", "round_robin"))
    return options


async def _grpc(
    targets: dict[str, str], workers: int, duration: float, warmup: float, make_call: Callable[[int], Call | None]
) -> Tally:
    """`targets`: gRPC service name -> target; one channel per (worker, service)."""
    channels = [
        {service: aio.insecure_channel(target, options=_channel_options(target)) for service, target in targets.items()}
        for _ in range(workers)
    ]

    stubs: dict[tuple[int, str], aio.UnaryUnaryMultiCallable[bytes, bytes]] = {}

    async def send(index: int, call: Call) -> tuple[str, str]:
        stub = stubs.get((index, call.grpc_method))
        if stub is None:
            stub = stubs[index, call.grpc_method] = channels[index][call.service].unary_unary(call.grpc_method)
        metadata = (("authorization", f"Bearer {call.token}"),) if call.token else ()
        try:
            await stub(call.grpc_request, metadata=metadata, timeout=15)
        except aio.AioRpcError as error:
            code: grpc.StatusCode = error.code()
            return code.name, error.details() or ""
        return "OK", ""

    try:
        return await _measure(workers, duration, warmup, make_call, send)
    finally:
        for per_worker in channels:
            for channel in per_worker.values():
                await channel.close()


def run_rest(
    host: str, port: int, workers: int, duration: float, warmup: float, make_call: Callable[[int], Call | None]
) -> Tally:
    return asyncio.run(_rest(host, port, workers, duration, warmup, make_call))


def run_grpc(
    targets: dict[str, str], workers: int, duration: float, warmup: float, make_call: Callable[[int], Call | None]
) -> Tally:
    return asyncio.run(_grpc(targets, workers, duration, warmup, make_call))

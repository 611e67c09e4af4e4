"""A minimal HTTP/1.1 client for tests (the standard library's, without redirects or retries)."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _read(response: http.client.HTTPResponse) -> Response:
    return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())


def request(
    method: str,
    url: str,
    body: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    source: str = "",
) -> Response:
    """One request on a new connection; `source`: the local address to send from (`127.0.0.3`)."""
    parts = urlsplit(url)
    sent = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        sent.setdefault("content-type", "application/json")
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=30, source_address=(source, 0) if source else None
    )
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=sent)
        return _read(connection.getresponse())
    finally:
        connection.close()


def raw_get(url: str, target: bytes, headers: dict[str, str] | None = None) -> Response:
    """`GET <target>` with the target written byte for byte: http.client refuses the control characters
    and non-ASCII bytes a fuzzer wants to send in a request line."""
    parts = urlsplit(url)
    lines = [b"GET " + target + b" HTTP/1.1", f"host: {parts.netloc}".encode(), b"connection: close"]
    lines += [f"{name}: {value}".encode() for name, value in (headers or {}).items()]
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        try:
            return _read(response)
        finally:
            response.close()

"""A minimal HTTP/1.1 client for tests (the standard library's, without redirects or retries)."""

from __future__ import annotations

import http.client
import json
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


def request(
    method: str, url: str, body: bytes | dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    parts = urlsplit(url)
    sent = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        sent.setdefault("content-type", "application/json")
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()

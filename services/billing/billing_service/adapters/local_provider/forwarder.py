"""HTTP -> gRPC for the payment webhook when Envoy is not in front (dev runs, tests).

Envoy's transcoder turns `POST /v1/webhooks/payments` into ReceivePaymentEvent with the raw body
as HttpBody and the request headers as metadata; this small server does the same for the local
provider's callbacks, and maps the gRPC status back to an HTTP status the provider understands.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.api import httpbody_pb2

from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc

PATH = "/v1/webhooks/payments"
POLL_SECONDS = 0.05  # how soon `stop` is noticed (serve_forever's default is 0.5 s)
_HTTP = {
    grpc.StatusCode.OK: HTTPStatus.OK,
    grpc.StatusCode.INVALID_ARGUMENT: HTTPStatus.BAD_REQUEST,
    grpc.StatusCode.UNAUTHENTICATED: HTTPStatus.UNAUTHORIZED,
    grpc.StatusCode.NOT_FOUND: HTTPStatus.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION: HTTPStatus.BAD_REQUEST,
}


class WebhookForwarder:
    def __init__(self, billing_target: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self._channel = grpc.insecure_channel(billing_target)
        stub = billing_pb2_grpc.BillingServiceStub(self._channel)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                if self.path != PATH:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = billing_pb2.ReceivePaymentEventRequest(
                    body=httpbody_pb2.HttpBody(content_type=self.headers.get("Content-Type", ""), data=body)
                )
                metadata = (("x-payment-signature", self.headers.get("X-Payment-Signature", "")),)
                try:
                    stub.ReceivePaymentEvent(request, metadata=metadata, timeout=10)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as error:
                    code = error.code()
                self.send_response(_HTTP.get(code, HTTPStatus.SERVICE_UNAVAILABLE))
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}{PATH}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="webhook-forwarder",
            daemon=True,
        )

    def start(self) -> WebhookForwarder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._channel.close()

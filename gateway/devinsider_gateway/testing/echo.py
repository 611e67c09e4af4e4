"""An echo gRPC backend for any descriptor set, without generated code.

Message classes come from `message_factory.GetMessageClass` over a pool built from the set, so
the test-only proto needs no Python generation. Every method answers its request echoed back,
except the special names: `Fail` (aborts with the code asked for and an ErrorInfo), `Sleep`,
`Upload` (returns the raw body it got, with a prefix).
"""

from __future__ import annotations

import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from devinsider_common.grpc.server import MAX_METADATA_BYTES


def _pool(descriptor_set: Path) -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    for proto in descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file:
        pool.Add(proto)
    return pool


class EchoBackend:
    def __init__(self, descriptor_set: Path, service: str, backend_id: str, port: int = 0) -> None:
        pool = _pool(descriptor_set)
        self.backend_id = backend_id
        self.descriptor = pool.FindServiceByName(service)
        # The metadata limits of our services (a URL up to the edge's limit reaches the backend).
        limits = [
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        ]
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=limits)
        handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        for method in self.descriptor.methods:
            request_class = message_factory.GetMessageClass(method.input_type)
            response_class = message_factory.GetMessageClass(method.output_type)
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                self._handler(method.name, response_class),
                request_deserializer=request_class.FromString,
                response_serializer=lambda message: message.SerializeToString(),
            )
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
        self.health = health.HealthServicer()
        self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.server.start()

    def _handler(self, name: str, response_class: Any) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            if name == "Fail":
                detail = any_pb2.Any()
                detail.Pack(error_details_pb2.ErrorInfo(reason="ASKED_TO_FAIL", domain="echo.test"))
                status = status_pb2.Status(code=request.code, message=f"failing with {request.code}", details=[detail])
                context.abort_with_status(rpc_status.to_status(status))
            if name == "Sleep":
                time.sleep(request.seconds)
                return response_class()
            if name == "Upload":
                data = f"{request.name}:".encode() + request.body.data
                return response_class(content_type=f"x-echo/{request.body.content_type}", data=data)
            response = response_class(backend=self.backend_id)
            response.request.CopyFrom(request)
            for key, value in context.invocation_metadata():
                if isinstance(value, str):
                    response.headers[key] = value
            return response

        return handle

    def stop(self) -> None:
        self.server.stop(grace=None).wait()

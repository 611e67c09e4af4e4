"""Envoy's OpenTelemetry tracer (`envoy.tracers.opentelemetry`), when the edge is given an OTLP collector.

With `--otlp-endpoint`, the edge listener opens a span per request (SERVER, the ingress) and one per
upstream call (CLIENT), continues a client's `traceparent` or starts a trace, and sends the upstream
service the W3C `traceparent` of its upstream span: the service's gRPC span is its child
(devinsider_common.tracing). Spans go to the collector over OTLP/gRPC, batched by Envoy (every 5 s or 5
spans by default; the runtime keys `tracing.opentelemetry.flush_interval_ms` and `.min_flush_spans`).
Without it there is no tracer and nothing changes: a client's `traceparent` reaches the services as any
other header does, and they continue that trace when their own tracing is on.
"""

from __future__ import annotations

from typing import Any

from . import clusters
from .options import GatewayOptions, TracingOptions, seconds

COLLECTOR_CLUSTER = "opentelemetry_collector"
TRACER = "envoy.tracers.opentelemetry"
TRACER_CONFIG = "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig"
UUID_REQUEST_ID = "type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig"


def connection_manager(tracing: TracingOptions) -> dict[str, Any]:
    """What the edge's HTTP connection manager gets with a tracer: the `tracing` block, and a request id
    extension that leaves `x-request-id` alone (Envoy would otherwise write the trace decision into it,
    changing a client's id) and does not sample by it."""
    return {
        "tracing": {
            "provider": {
                "name": TRACER,
                "typed_config": {
                    "@type": TRACER_CONFIG,
                    "grpc_service": {
                        "envoy_grpc": {"cluster_name": COLLECTOR_CLUSTER},
                        "timeout": seconds(tracing.export_timeout_seconds),
                    },
                    "service_name": tracing.service_name,
                },
            },
            # Requests that arrive without a sampled trace context: the share traced here.
            "random_sampling": {"value": tracing.sampling_percent},
            # A CLIENT span per upstream call, parent of the service's span.
            "spawn_upstream_span": True,
        },
        "request_id_extension": {
            "typed_config": {
                "@type": UUID_REQUEST_ID,
                "pack_trace_reason": False,
                "use_request_id_for_trace_sampling": False,
            }
        },
    }


def collector_cluster(tracing: TracingOptions, options: GatewayOptions) -> dict[str, Any]:
    """The OTLP/gRPC collector (HTTP/2; TLS with `https://`)."""
    endpoint = tracing.collector
    cluster: dict[str, Any] = {
        "name": COLLECTOR_CLUSTER,
        "type": "STATIC" if endpoint.is_ip else "STRICT_DNS",
        "connect_timeout": seconds(options.connect_timeout_seconds),
        "typed_extension_protocol_options": clusters.http2(options),
        "load_assignment": {
            "cluster_name": COLLECTOR_CLUSTER,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {"socket_address": {"address": endpoint.host, "port_value": endpoint.port}}
                            }
                        }
                    ]
                }
            ],
        },
    }
    if tracing.tls:
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": endpoint.host,
                "common_tls_context": {"alpn_protocols": ["h2"]},
            },
        }
    return cluster

"""Structured logs (structlog): one JSON object per line, with the request id of the call and, inside a
span, its trace and span ids."""

from __future__ import annotations

import logging
import sys

import structlog
from opentelemetry import trace

from devinsider_common import context as ctx


def _add_request_id(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    request_id = ctx.current_request_id()
    if request_id and "request_id" not in event:
        event["request_id"] = request_id
    return event


def _add_trace_ids(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    """`trace_id` and `span_id` (W3C hex) of the current span, when there is one (devinsider_common.tracing)."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event.setdefault("span_id", format(span_context.span_id, "016x"))
    return event


def _static_field(key: str, value: object) -> structlog.types.Processor:
    def add(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
        event.setdefault(key, value)
        return event

    return add


# Libraries whose INFO lines are routine chatter (APScheduler logs every run of every job).
QUIET_LIBRARY_LOGGERS = ("apscheduler", "pika", "alembic.runtime.migration")


def configure_logging(service: str, level: str = "INFO", json: bool = True, worker: int | None = None) -> None:
    """Configure structlog and the standard library loggers once, at process start.

    Library loggers (APScheduler, pika, Alembic...) go through the same processors, so every line a
    service writes is one JSON object with `service`, `level`, `timestamp`, the request id, `trace_id` and
    `span_id` inside a span (devinsider_common.tracing), and `worker`, the process's index, under a
    supervisor of several (devinsider_common.workers)."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
        _add_trace_ids,
    ]
    if worker is not None:
        shared.append(_static_field("worker", worker))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    logging.basicConfig(handlers=[handler], level=level, force=True)
    for name in QUIET_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)

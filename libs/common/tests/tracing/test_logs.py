"""Inside a span every log line carries its `trace_id` and `span_id`, structlog's and the libraries' alike;
outside one, none (a child process: logging configuration is process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, logging, sys
import structlog
from devinsider_common import tracing
from devinsider_common.logging import configure_logging

configure_logging("svc-under-test", "INFO", json=True)
tracer = tracing.new_provider("svc-under-test").get_tracer("test")
structlog.get_logger("ours").info("before")
with tracer.start_as_current_span("work") as span:
    structlog.get_logger("ours").info("inside")
    logging.getLogger("somelib").warning("library inside")
    context = span.get_span_context()
    print(json.dumps({"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}))
structlog.get_logger("ours").info("after")
"""


def test_log_lines_inside_a_span_carry_its_trace_and_span_ids() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30, check=True)
    span = json.loads(result.stdout)
    lines = {line["event"]: line for line in map(json.loads, result.stderr.splitlines())}
    assert set(lines) == {"before", "inside", "library inside", "after"}
    for event in ("inside", "library inside"):
        assert (lines[event]["trace_id"], lines[event]["span_id"]) == (span["trace_id"], span["span_id"])
    assert "trace_id" not in lines["before"] and "trace_id" not in lines["after"]

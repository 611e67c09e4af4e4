"""Every line a service writes is one JSON object, library loggers included (run in a child
process: logging configuration is process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging
import structlog
from devinsider_common.logging import configure_logging

configure_logging("svc-under-test", "INFO", json=True)
structlog.get_logger("ours").info("ours.event", answer=42)
logging.getLogger("apscheduler.executors.default").info("Running job xyz")  # routine chatter: dropped
logging.getLogger("pika.adapters").warning("connection lost %s", "127.0.0.1")
try:
    raise RuntimeError("boom")
except RuntimeError:
    logging.getLogger("somelib").exception("failed")
"""


def test_structlog_and_library_lines_are_json_with_the_service_and_chatter_is_quiet() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30, check=True)
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    events = [line["event"] for line in lines]
    assert events == ["ours.event", "connection lost 127.0.0.1", "failed"]
    assert all(line["service"] == "svc-under-test" and "timestamp" in line for line in lines)
    assert lines[0]["answer"] == 42
    assert lines[1]["level"] == "warning" and lines[1]["logger"] == "pika.adapters"
    assert "RuntimeError: boom" in lines[2]["exception"]

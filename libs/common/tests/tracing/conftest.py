"""An in-memory tracer provider, active for one test (devinsider_common.tracing.activate), and its spans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devinsider_common import tracing


class Spans:
    """The finished spans of the test's provider, and its tracer for the test's own spans."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = tracing.new_provider("tracing-test", [SimpleSpanProcessor(self.exporter)])
        self.tracer = self.provider.get_tracer("tests")

    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.finished() if span.name == name]


@pytest.fixture
def spans() -> Iterator[Spans]:
    found = Spans()
    tracing.activate(found.provider)
    try:
        yield found
    finally:
        tracing.deactivate()
        found.provider.shutdown()

"""OpenTelemetry spans per pipeline stage (monitoring/telemetry.py), captured with the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from carecite.answering.pipeline import AskRequest
from carecite.monitoring import telemetry
from carecite.settings import Settings

QUESTION = "What follow-up tasks are still outstanding?"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use_provider(provider)
    yield exporter
    telemetry.use_provider(None)


def test_one_ask_span_with_a_child_per_stage_and_no_text(spans, tiny_pipeline, patient_id) -> None:  # type: ignore[no-untyped-def]
    answer = tiny_pipeline.ask(AskRequest(question=QUESTION, user_id="cc-ben", patient_id=patient_id))
    finished = spans.get_finished_spans()
    root = next(s for s in finished if s.name == "carecite.ask")
    assert root.attributes is not None and root.attributes["carecite.request_id"] == answer.request_id
    assert root.attributes["carecite.declined"] == answer.declined
    children = {s.name for s in finished if s.parent is not None and s.parent.span_id == root.context.span_id}
    assert {"carecite.access", "carecite.retrieve", "carecite.rerank"} <= children
    if not answer.declined:
        assert {"carecite.generate", "carecite.verify"} <= children
    everything = " ".join(str(dict(s.attributes or {})) + s.name for s in finished)
    assert "follow-up" not in everything and "outstanding" not in everything


def test_a_denied_request_is_traced_with_its_reason(spans, tiny_pipeline, patient_id) -> None:  # type: ignore[no-untyped-def]
    tiny_pipeline.ask(AskRequest(question=QUESTION, user_id="nobody", patient_id=patient_id))
    root = next(s for s in spans.get_finished_spans() if s.name == "carecite.ask")
    assert root.attributes is not None and root.attributes["carecite.decline_reason"] == "access_denied"


def test_off_by_default_records_nothing(tiny_pipeline, patient_id) -> None:  # type: ignore[no-untyped-def]
    assert Settings().otel_exporter == "off"
    telemetry.configure(Settings())  # off: no provider is built
    exporter = InMemorySpanExporter()
    tiny_pipeline.ask(AskRequest(question=QUESTION, user_id="cc-ben", patient_id=patient_id))
    assert telemetry._State.provider is None and exporter.get_finished_spans() == ()


def test_console_exporter_writes_spans_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        telemetry.configure(Settings(otel_exporter="console"))
        provider = telemetry._State.provider
        assert provider is not None
        with telemetry.span("retrieve"):
            pass
        provider.force_flush()
        captured = capsys.readouterr()
        assert '"name": "carecite.retrieve"' in captured.err and captured.out == ""
    finally:
        telemetry.use_provider(None)

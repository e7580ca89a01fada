"""OpenTelemetry spans for the answering pipeline: one ``carecite.ask`` span per request with a child
span per timed stage (access, retrieve, rerank, generate, verify). Off by default.

``CARECITE_OTEL_EXPORTER``: ``off`` (no provider: the OpenTelemetry API's no-op tracer, nothing is
recorded), ``console`` (spans as JSON on stderr, so ``ask --json`` stdout stays clean) or ``otlp``
(OTLP/HTTP to ``CARECITE_OTEL_ENDPOINT``). Spans carry ids, counts and outcomes, never question,
answer or source text.

The provider is held here rather than installed globally, so tests (and an embedding application
with its own global provider) can install theirs with ``use_provider``.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from carecite.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")
TRACER_NAME = "carecite"


class _State:
    provider: TracerProvider | None = None
    configured: str | None = None  # the exporter setting the provider was built for
    lock = threading.Lock()


def use_provider(provider: TracerProvider | None) -> None:
    """Send carecite's spans to ``provider`` (None: back to the global, by default no-op, tracer)."""
    with _State.lock:
        _State.provider = provider
        _State.configured = "custom" if provider is not None else None


def configure(settings: Settings) -> None:
    """Build the provider the settings ask for, once per process (``build_pipeline`` calls this)."""
    if settings.otel_exporter == "off" or _State.configured is not None:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    exporter: SpanExporter
    if settings.otel_exporter == "console":
        exporter = ConsoleSpanExporter(out=sys.stderr)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint or "http://localhost:4318/v1/traces")
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    with _State.lock:
        if _State.configured is None:
            _State.provider, _State.configured = provider, settings.otel_exporter


def tracer() -> trace.Tracer:
    provider = _State.provider
    return provider.get_tracer(TRACER_NAME) if provider is not None else trace.get_tracer(TRACER_NAME)


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    with tracer().start_as_current_span(f"carecite.{name}", attributes=attributes or None) as s:
        yield s


def traced(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a call in a span; when it returns an Answer, record its outcome (ids and reasons only)."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name) as s:
                result = fn(*args, **kwargs)
                for attr in ("request_id", "declined", "decline_reason", "break_glass"):
                    value = getattr(result, attr, None)
                    if value is not None:
                        s.set_attribute(f"carecite.{attr}", value)
                if hasattr(result, "citations"):
                    s.set_attribute("carecite.citations", len(result.citations))
                return result

        return inner

    return wrap

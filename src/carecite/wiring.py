"""Composition only: chooses the concrete classes behind each port and builds the pipeline. The one
place that knows the adapters (``Stores`` opens the data dir's stores; this module puts them together).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from carecite.settings import Settings
from carecite.stores import Stores

if TYPE_CHECKING:
    from carecite.answering.pipeline import Pipeline
    from carecite.ports import ChatModel, Redactor


@contextmanager
def _hidden(module: str) -> Iterator[None]:
    """Make ``import <module>`` fail while the block imports a library that only *probes* for it.

    presidio-analyzer imports ``transformers`` (seconds: torch.distributed, image processors…) for
    its optional Hugging Face NLP engine, which carecite never uses (spaCy is the engine). When
    transformers is not loaded yet, presidio is imported with it hidden; it is importable again
    right after (a configured cross-encoder re-ranker still works)."""
    if module in sys.modules:
        yield
        return
    sys.modules[module] = None  # type: ignore[assignment]  # "import halted": an ImportError
    try:
        yield
    finally:
        if sys.modules.get(module, 0) is None:
            del sys.modules[module]


def build_redactor() -> Redactor:
    import carecite.privacy  # noqa: F401  (sets Presidio's environment: no network, no torch probe)

    # spaCy's thinc imports torch when it can (seconds), for GPU ops the small CPU model never uses;
    # a request embeds its question without torch (embedder.SMALL_CALL), so keep torch out here too.
    with _hidden("transformers"), _hidden("torch"):
        import presidio_analyzer  # noqa: F401  (imported here, while transformers and torch are hidden)

    from carecite.privacy.redactor import PresidioRedactor

    return PresidioRedactor()


def build_pipeline(
    settings: Settings,
    *,
    stores: Stores | None = None,
    chat_model: ChatModel | None = None,
    redactor: Redactor | None = None,
) -> Pipeline:
    """The one place that chooses concrete classes. ``chat_model`` lets tests script the LLM;
    everything else is always real."""
    from carecite.answering.generate import LLMGenerator, make_generator
    from carecite.answering.llm_check_result import fold_system_prompt
    from carecite.answering.pipeline import Pipeline
    from carecite.audit.log import AuditLog
    from carecite.records.vocabulary import display_words
    from carecite.retrieval.rerank import build_reranker

    stores = stores or Stores(settings)
    redactor = redactor or build_redactor()
    engine = stores.engine

    def vocabulary() -> frozenset[str]:
        return display_words(engine)

    generator = (
        LLMGenerator(
            chat_model,
            prices=settings.llm_prices,
            redactor=redactor,
            phi_allowed=settings.llm_phi_allowed,
            fold_system=fold_system_prompt(settings),
            retry_max_tokens=settings.llm_retry_max_tokens,
            vocabulary=vocabulary,
        )
        if chat_model is not None
        else make_generator(settings, stores.embedder, redactor, vocabulary=vocabulary)
    )
    from carecite.monitoring import telemetry
    from carecite.monitoring.drift import QueryRecorder

    telemetry.configure(settings)  # OpenTelemetry spans: off unless CARECITE_OTEL_EXPORTER says so
    return Pipeline(
        settings=settings,
        stores=stores,
        reranker=build_reranker(settings, stores.embedder),
        generator=generator,
        redactor=redactor,
        audit=AuditLog(stores.engine, redact=redactor.redact),
        on_query_vector=(
            QueryRecorder(stores.engine, stores.embedder.fingerprint, settings)
            if settings.drift_record_queries
            else None
        ),
    )

"""Prometheus metrics of one app (its own registry, so several apps in one process never clash)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from carecite.domain import Answer, SearchResult

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "carecite_http_requests",
            "HTTP requests by route and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "carecite_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.stage = Histogram(
            "carecite_stage_seconds",
            "Pipeline stage latency (access, retrieve, rerank, generate, verify, total)",
            ["endpoint", "stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.declines = Counter("carecite_declines", "Declined requests by reason", ["reason"], registry=r)
        self.tokens = Counter("carecite_llm_tokens", "LLM tokens by kind", ["kind"], registry=r)
        self.cost = Counter("carecite_llm_cost_usd", "LLM cost in USD", registry=r)

    def observe_answer(self, answer: Answer) -> None:
        self._stages("ask", answer.timings_ms)
        if answer.declined and answer.decline_reason:
            self.declines.labels(answer.decline_reason).inc()
        self.tokens.labels("prompt").inc(answer.usage.prompt_tokens)
        self.tokens.labels("completion").inc(answer.usage.completion_tokens)
        if answer.usage.cost_usd is not None:  # an unpriced model adds nothing, not a guess
            self.cost.inc(answer.usage.cost_usd)

    def observe_search(self, result: SearchResult) -> None:
        self._stages("search", result.timings_ms)
        if result.declined and result.decline_reason:
            self.declines.labels(result.decline_reason).inc()

    def _stages(self, endpoint: str, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stage.labels(endpoint, stage).observe(ms / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)

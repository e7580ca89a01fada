"""One stage timer for the pipeline and the benchmarks: what a request reports in ``timings_ms`` and
what ``carecite bench`` prints are measured by the same code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from carecite.monitoring.telemetry import span

ASK_STAGES = ("access", "retrieve", "rerank", "generate", "verify")


@dataclass
class Timer:
    """Milliseconds per named stage (a stage entered twice adds up), plus the total since creation."""

    timings: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            with span(name):  # an OpenTelemetry span per stage (no-op unless enabled)
                yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + (time.perf_counter() - t0) * 1000, 2)

    def seconds(self, name: str) -> float:
        return self.timings.get(name, 0.0) / 1000

    def done(self) -> dict[str, float]:
        out = {k: self.timings.get(k, 0.0) for k in ASK_STAGES}
        out.update(self.timings)
        out["total"] = round((time.perf_counter() - self.start) * 1000, 2)
        return out

"""Latency distributions of ``carecite bench query`` as a self-contained HTML chart (Altair).

Altair writes HTML without any extra dependency (PNG/SVG would need vl-convert or matplotlib,
neither installed here). The chart loads vega from a CDN when opened; the data is embedded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

PLOT_FILE = "bench-query-latency.html"


def write_latency_plot(samples: Mapping[str, Sequence[float]], out_dir: Path) -> str | None:
    """Box plot (log scale) of every stage's latencies; returns the file written, or None when
    Altair is not installed."""
    try:
        import altair as alt
        import pandas as pd
    except ImportError:  # optional: the tables carry the same figures
        return None
    rows = [{"stage": stage, "ms": max(v, 1e-3)} for stage, values in samples.items() for v in values]
    if not rows:
        return None
    order = list(samples)
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_boxplot(extent="min-max")
        .encode(
            y=alt.Y("stage:N", sort=order, title=None),
            x=alt.X("ms:Q", scale=alt.Scale(type="log"), title="latency (ms, log scale)"),
        )
        .properties(title="carecite bench query: retrieval stages vs naive baseline", width=640)
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PLOT_FILE
    chart.save(str(path))
    return str(path.resolve())

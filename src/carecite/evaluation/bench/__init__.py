"""``carecite bench``: figures printed against a baseline measured in the same run, on the same
machine, at the same moment (never timed assertions). One module per benchmark:

- ``ingest``: ingest throughput against raw MiniLM encoding of the same texts;
- ``committed``: the committed world through ``Pipeline.ask``, and a cold ``carecite ask`` process;
- ``scale``: the pipeline's retrieval stages at 100k chunks against a naive Chroma top-5;
- ``query``: (a) + (b) + (c) in one report (``carecite bench query``);
- ``common``: percentiles, peak RSS, machine facts, progress bars.
"""

from carecite.evaluation.bench.committed import ASK_STAGES, CommittedReport, bench_committed, cold_process_s
from carecite.evaluation.bench.common import Distribution, PeakRss, percentile
from carecite.evaluation.bench.ingest import IngestBenchReport, IngestScale, render_ingest, run_ingest_bench
from carecite.evaluation.bench.query import QueryBenchReport, render_query, run_query_bench
from carecite.evaluation.bench.scale import QUERY_STAGES, ScaleReport, perturbed_vectors, replicate_chunks

__all__ = [
    "ASK_STAGES",
    "QUERY_STAGES",
    "CommittedReport",
    "Distribution",
    "IngestBenchReport",
    "IngestScale",
    "PeakRss",
    "QueryBenchReport",
    "ScaleReport",
    "bench_committed",
    "cold_process_s",
    "percentile",
    "perturbed_vectors",
    "render_ingest",
    "render_query",
    "replicate_chunks",
    "run_ingest_bench",
    "run_query_bench",
]

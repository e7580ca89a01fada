"""``carecite bench load``: N concurrent clients against the HTTP API for a bounded time, once per
store setup (embedded, and shared servers when configured) in one run.

Each setup gets a real uvicorn server on loopback over its own pipeline (``api.server.running``);
every client loops ``POST /v1/ask`` over the gold questions until the deadline. Reported per setup:
throughput, p50/p95/p99 latency, errors by HTTP status, and the audit check — every request the
API answered left EXACTLY one audit record with its request id, no record appeared that no request
explains, and the hash chain still verifies after the concurrent appends.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carecite.settings import Settings


@dataclass(frozen=True)
class StoreSetup:
    name: str  # "embedded", "shared"
    settings: Settings

    @property
    def stores(self) -> str:
        return store_description(self.settings)


@dataclass
class LoadResult:
    setup: str
    stores: str
    clients: int
    seconds: float
    requests: int
    ok: int
    errors: dict[str, int]
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    audit_records: int  # new records in the run
    audit_one_per_request: bool
    audit_problems: list[str] = field(default_factory=list)
    chain_ok: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def store_description(settings: Settings) -> str:
    sql = "PostgreSQL" if (settings.database_url or "").startswith("postgresql") else "SQLite"
    vectors = (
        "pgvector"
        if settings.vector_store == "pgvector"
        else ("Chroma server" if settings.chroma_host else "embedded Chroma")
    )
    lexical = "PostgreSQL FTS" if settings.lexical_store == "postgres" else "bm25s"
    return f"{sql} + {vectors} + {lexical}"


def load_requests(gold: Path) -> list[dict[str, Any]]:
    """The gold questions that name a patient and expect an answer (the realistic ask)."""
    rows = [json.loads(line) for line in gold.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("patient_id") and r.get("expect") == "answer"]
    if not rows:
        raise ValueError(f"{gold} has no answerable questions about a patient")
    return rows


def _drive(
    base: str, tokens: dict[str, str], work: list[dict[str, Any]], clients: int, seconds: float
) -> tuple[list[float], Counter[str], list[str], float]:
    """Run the clients until the deadline: latencies (ms) of 2xx replies, outcomes by status, the
    request ids the API returned (answers, and 403 denials through X-Request-ID)."""
    import httpx

    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    request_ids: list[str] = []
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(base_url=base, timeout=max(60.0, seconds * 2)) as http:
            while time.monotonic() < deadline:
                r = work[next(counter) % len(work)]
                t0 = time.perf_counter()
                try:
                    resp = http.post(
                        "/v1/ask",
                        json={"question": r["question"], "patient_id": r["patient_id"]},
                        headers={"Authorization": f"Bearer {tokens[r['user_id']]}"},
                    )
                except httpx.HTTPError as exc:
                    with lock:
                        outcomes[type(exc).__name__] += 1
                    continue
                ms = (time.perf_counter() - t0) * 1000
                rid = resp.headers.get("X-Request-ID")
                if resp.status_code == 200:
                    rid = str(resp.json().get("request_id") or "")
                with lock:
                    outcomes[str(resp.status_code)] += 1
                    if resp.status_code == 200:
                        latencies.append(ms)
                    if rid:
                        request_ids.append(rid)

    started = time.monotonic()
    threads = [threading.Thread(target=client, name=f"load-client-{i}") for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, outcomes, request_ids, time.monotonic() - started


def run_setup(setup: StoreSetup, gold: Path, *, clients: int, seconds: float) -> LoadResult:
    from carecite.api.auth import mint_token
    from carecite.api.server import running
    from carecite.evaluation.bench import percentile
    from carecite.wiring import build_pipeline

    # measure, don't throttle; a benchmark's throwaway database is served as the role that ingested it
    settings = setup.settings.model_copy(
        update={"api_rate_limit_per_minute": 0, "db_allow_privileged_role": True}
    )
    pipeline = build_pipeline(settings)
    pipeline.stores.embedder.embed_query("warm up")
    pipeline.redactor.redact("warm up")
    work = load_requests(gold)
    tokens = {u: mint_token(settings, u, ["user/*.rs"]) for u in {r["user_id"] for r in work}}
    # Warm-up: each distinct question once, in-process and untimed, so no setup pays the first-use
    # costs (model kernels, caches) inside its measured window; its audit records precede ``since``.
    from carecite.answering.pipeline import AskRequest

    for r in {(r["question"], r["user_id"], r["patient_id"]): r for r in work}.values():
        pipeline.ask(AskRequest(question=r["question"], user_id=r["user_id"], patient_id=r["patient_id"]))
    since = datetime.now(UTC).isoformat(timespec="microseconds")
    with running(settings, pipeline) as base:
        latencies, outcomes, request_ids, took = _drive(base, tokens, work, clients, seconds)

    audit = pipeline.audit
    new = audit.records(since=since, limit=None, newest_first=False)
    per_request = Counter(e.request_id for e in new)
    problems = [
        f"request {rid} left {per_request[rid]} audit records" for rid in request_ids if per_request[rid] != 1
    ]
    unexplained = set(per_request) - set(request_ids)
    if unexplained:
        problems.append(f"{len(unexplained)} audit records no request explains")
    ordered = sorted(latencies)
    ok = sum(n for status, n in outcomes.items() if status == "200")
    total = sum(outcomes.values())
    return LoadResult(
        setup=setup.name,
        stores=setup.stores,
        clients=clients,
        seconds=round(took, 1),
        requests=total,
        ok=ok,
        errors={status: n for status, n in sorted(outcomes.items()) if status != "200"},
        throughput_rps=round(ok / took, 2) if took else 0.0,
        p50_ms=round(percentile(ordered, 50), 1),
        p95_ms=round(percentile(ordered, 95), 1),
        p99_ms=round(percentile(ordered, 99), 1),
        audit_records=len(new),
        audit_one_per_request=not problems,
        audit_problems=problems[:5],
        chain_ok=audit.verify().ok,
    )


def run_load(
    setups: Sequence[StoreSetup], gold: Path, *, clients: int, seconds: float, progress: bool = True
) -> list[LoadResult]:
    """Each setup in turn (never at once: they would compete for the same cores)."""
    results = []
    for setup in setups:
        if progress:
            print(f"  {setup.name}: {clients} clients for {seconds:g} s ...", flush=True)
        results.append(run_setup(setup, gold, clients=clients, seconds=seconds))
    return results

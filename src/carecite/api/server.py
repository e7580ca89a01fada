"""Running the app: ``carecite serve`` (uvicorn), an in-thread server for tests and the benchmark, and
``carecite bench api`` (p50/p95 of /v1/ask and /v1/search under concurrent clients, against the
in-process pipeline measured the same way in the same run)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from carecite.settings import Settings

if TYPE_CHECKING:
    from carecite.answering.pipeline import Pipeline


def serve(settings: Settings, host: str, port: int) -> None:
    """Start the API and block (Ctrl+C stops it)."""
    from carecite.api.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def running(
    settings: Settings, pipeline: Pipeline | None = None, host: str = "127.0.0.1", log_level: str = "warning"
) -> Iterator[str]:
    """A real uvicorn server on a free loopback port, in a thread; yields its base URL. ``log_level``
    "info" turns uvicorn's access log on."""
    from carecite.api.app import create_app

    port = free_port(host)
    config = uvicorn.Config(
        create_app(settings, pipeline=pipeline), host=host, port=port, log_level=log_level, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"carecite-api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# --------------------------------------------------------------------------- bench api
@dataclass
class Latencies:
    name: str
    ms: list[float] = field(default_factory=list)
    errors: int = 0

    def row(self) -> dict[str, float | int | str]:
        from carecite.evaluation.bench import percentile

        ordered = sorted(self.ms)
        return {
            "name": self.name,
            "n": len(ordered),
            "errors": self.errors,
            "p50_ms": round(percentile(ordered, 50), 1) if ordered else 0.0,
            "p95_ms": round(percentile(ordered, 95), 1) if ordered else 0.0,
        }


def _gold_requests(gold: Path, n: int) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in gold.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("patient_id") and r.get("expect") == "answer"]
    return [rows[i % len(rows)] for i in range(n)]


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def run_api_bench(
    settings: Settings, gold: Path, *, clients: int = 8, requests: int = 32, progress: bool = True
) -> list[dict[str, float | int | str]]:
    """Each of ask and search: ``requests`` gold questions from ``clients`` concurrent callers, first
    straight through the in-process Pipeline, then over HTTP (real uvicorn, minted tokens)."""
    import httpx

    from carecite.answering.pipeline import AskRequest
    from carecite.api.auth import mint_token
    from carecite.wiring import build_pipeline

    settings = settings.model_copy(update={"api_rate_limit_per_minute": 0})  # measure, don't throttle
    pipeline = build_pipeline(settings)
    pipeline.stores.embedder.embed_query("warm up")
    pipeline.redactor.redact("warm up")
    work = _gold_requests(gold, requests)
    reqs = [
        AskRequest(question=r["question"], user_id=r["user_id"], patient_id=r["patient_id"]) for r in work
    ]

    results: list[Latencies] = []

    def measure(name: str, calls: Sequence[Callable[[], object]]) -> None:
        lat = Latencies(name)
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for fut in [pool.submit(_timed, c) for c in calls]:
                try:
                    lat.ms.append(fut.result())
                except Exception:
                    lat.errors += 1
        results.append(lat)
        if progress:
            print(f"  {name}: done ({len(lat.ms)} ok, {lat.errors} errors)", flush=True)

    # The first pass fills the re-ranker's and embedder's caches; it is reported, then every measured
    # pass (in-process and HTTP) sees the same warm caches, so the two are comparable.
    measure("pipeline.ask (cold, first pass)", [partial(pipeline.ask, r) for r in reqs])
    measure("pipeline.ask", [partial(pipeline.ask, r) for r in reqs])
    measure("pipeline.search", [partial(pipeline.search, r) for r in reqs])

    tokens = {u: mint_token(settings, u, ["user/*.rs"]) for u in {r["user_id"] for r in work}}
    with running(settings, pipeline) as base, httpx.Client(base_url=base, timeout=300) as http:

        def call(path: str, r: dict[str, Any]) -> Callable[[], object]:
            def go() -> object:
                resp = http.post(
                    path,
                    json={"question": r["question"], "patient_id": r["patient_id"]},
                    headers={"Authorization": f"Bearer {tokens[r['user_id']]}"},
                )
                resp.raise_for_status()
                return resp

            return go

        measure("POST /v1/ask", [call("/v1/ask", r) for r in work])
        measure("POST /v1/search", [call("/v1/search", r) for r in work])
    return [lat.row() for lat in results]

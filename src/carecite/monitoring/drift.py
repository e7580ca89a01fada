"""Embedding drift: are today's questions and newly ingested notes still like what we calibrated on?

What is kept (table ``DriftSample``), and why it holds no PHI:
  * every embedding is stored only as a k-dimensional random projection (default k=32 of 384),
    rounded to 4 decimals. A projection cannot be inverted to the vector, let alone to text;
  * one reference snapshot per corpus (``CORPORA``: notes, policies): projections of a sample of
    that corpus's chunk embeddings, taken the first time its chunks are embedded into a data dir
    (``carecite drift --reset-reference`` takes a new one of each); kind ``reference:<corpus>``;
  * later ingests: projections of the chunks they added, per corpus (kind ``ingest:<corpus>``);
  * questions: the projection of the scrubbed query vector retrieval already computed, timestamped
    to the hour, with no request id, user or patient. Question text is never stored here.

What is compared (``drift_report``), in projection space (it preserves distances in expectation):
  * like with like: notes ingested since ``since`` against the notes' reference, policies against
    the policies' (a demo ingests the notes and then the CMS policies: policies are not a drift of
    the notes). Ingests within ``drift_reference_window_hours`` of a corpus's reference complete
    that reference (a world or a policy set loaded in parts) and are not a recent window;
  * questions asked since ``since`` against the first ``drift_query_baseline`` questions recorded
    after the reference (questions and passages live in different regions of the space, so
    questions are compared with questions);
  * each pair by the cosine shift of the mean vectors (1 - cos; alerts when it reaches the
    threshold AND a permutation test says it is not chance) and a two-sample Kolmogorov-Smirnov
    test on each projected axis, Bonferroni-corrected (alerts below alpha);
  * the embedding model's fingerprint against the reference's (a changed model invalidates every
    stored vector, including the indexes);
  * from the audit trail: the share of questions whose best retrieval score fell below the gate.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from carecite.records import session_scope
from carecite.records import tables as t

if TYPE_CHECKING:
    from carecite.settings import Settings
    from carecite.stores import Stores

log = logging.getLogger(__name__)
SEED_KEY = "drift_projection_seed"
PERMUTATIONS = 199
NO_REFERENCE = "no reference snapshot yet: take one with carecite drift --reset-reference"
LEGACY_REFERENCE = (
    "the reference predates comparing notes and policies apart: take a new one with "
    "carecite drift --reset-reference"
)
# A chunk's source_type → the corpus its drift is measured in (like with like).
CORPORA: dict[str, str] = {"note_chunk": "notes", "policy": "policies"}
Matrix = NDArray[np.float64]


# --------------------------------------------------------------------------- projections
def _seed(engine: Engine) -> int:
    """A per-data-dir random seed for the projection matrix, created on first use."""
    with session_scope(engine) as s:
        row = s.get(t.Meta, SEED_KEY)
        if row is None:
            row = t.Meta(key=SEED_KEY, value=str(secrets.randbits(32)))
            s.add(row)
        return int(row.value)


def projection_matrix(seed: int, dim: int, k: int) -> Matrix:
    """A Gaussian random projection (dim → k), scaled so squared norms are preserved in expectation."""
    rng = np.random.default_rng(seed)
    matrix: Matrix = rng.standard_normal((dim, k)) / np.sqrt(k)
    return matrix


class Projector:
    def __init__(self, engine: Engine, dim: int, k: int) -> None:
        self.matrix = projection_matrix(_seed(engine), dim, k)

    def __call__(self, vectors: NDArray[Any]) -> Matrix:
        arr = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        return np.round(arr @ self.matrix, 4)


def _sample(rows: Matrix, limit: int, seed: int = 0) -> Matrix:
    if len(rows) <= limit:
        return rows
    idx = np.random.default_rng(seed).choice(len(rows), size=limit, replace=False)
    return rows[np.sort(idx)]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def corpus_of(source_type: str) -> str:
    """The drift corpus of a chunk's source type (notes unless it is a policy)."""
    return CORPORA.get(source_type, "notes")


def has_reference(engine: Engine, corpus: str) -> bool:
    with Session(engine) as s:
        kind = f"reference:{corpus}"
        return s.exec(select(t.DriftSample.id).where(col(t.DriftSample.kind) == kind)).first() is not None


def record_chunk_vectors(
    engine: Engine,
    fingerprint: str,
    vectors: NDArray[Any],
    settings: Settings,
    *,
    corpus: str = "notes",
    reference: bool = False,
) -> str:
    """Store projections of newly embedded chunks of one corpus: its reference when it has none yet
    (or when ``reference``), else an ingest sample. Returns the kind written; ValueError on no vectors."""
    sample = ChunkDriftSample(engine, settings)
    sample.add(vectors, corpus)
    kinds = sample.record(fingerprint, reference=reference)
    if not kinds:
        raise ValueError("no chunk vectors to record")
    return kinds[0]


class ChunkDriftSample:
    """The drift sample of one ingest, fed batch by batch as chunks are embedded.

    Each batch is projected at once and only its k-dimensional projection is kept (32 floats a
    chunk, not the 384-d vector): memory that grows by a sixth as fast as keeping the vectors, and
    no whole-ingest ``vstack``. The rows written equal ``record_chunk_vectors`` on all the vectors
    at once (projection is row by row; the sample is drawn over all rows at the end). Each corpus
    (notes, policies) is kept and written apart: drift compares like with like.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._projector: Projector | None = None
        self._parts: dict[str, list[Matrix]] = {}

    def __len__(self) -> int:
        return sum(len(p) for parts in self._parts.values() for p in parts)

    def add(self, vectors: NDArray[Any], corpus: str = "notes") -> None:
        arr = np.atleast_2d(np.asarray(vectors))
        if not arr.size:
            return
        if self._projector is None:
            self._projector = Projector(self.engine, arr.shape[1], self.settings.drift_projection_dims)
        self._parts.setdefault(corpus, []).append(self._projector(arr))

    def add_chunks(self, source_types: Sequence[str], vectors: NDArray[Any]) -> None:
        """Add the vectors of chunks with these source types (row i is chunk i), each to its corpus."""
        arr = np.atleast_2d(np.asarray(vectors))
        corpora = [corpus_of(x) for x in source_types]
        for corpus in dict.fromkeys(corpora):
            self.add(arr[[i for i, c in enumerate(corpora) if c == corpus]], corpus)

    def record(self, fingerprint: str, *, reference: bool = False) -> list[str]:
        """Write one sample per corpus added (see ``record_chunk_vectors``); the kinds written."""
        kinds: list[str] = []
        for corpus in sorted(self._parts):
            first = reference or not has_reference(self.engine, corpus)
            kind = f"{'reference' if first else 'ingest'}:{corpus}"
            projected = np.vstack(self._parts[corpus])
            sample = _sample(projected, self.settings.drift_sample)
            with session_scope(self.engine) as s:
                s.add(
                    t.DriftSample(
                        kind=kind,
                        ts=_now(),
                        fingerprint=fingerprint,
                        n=len(projected),
                        projections=json.dumps(sample.tolist()),
                    )
                )
            kinds.append(kind)
        return kinds


class QueryRecorder:
    """Called by the pipeline with each scrubbed query vector; stores its projection, hour-bucketed.

    Never fails a request: a storage error is logged (without the vector) and the answer goes on.
    """

    def __init__(self, engine: Engine, fingerprint: str, settings: Settings) -> None:
        self.engine = engine
        self.fingerprint = fingerprint
        self.k = settings.drift_projection_dims
        self._projector: Projector | None = None

    def __call__(self, vector: NDArray[Any]) -> None:
        try:
            if self._projector is None:
                self._projector = Projector(self.engine, int(np.asarray(vector).shape[-1]), self.k)
            projected = self._projector(vector)[0]
            hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            with session_scope(self.engine) as s:
                s.add(
                    t.DriftSample(
                        kind="query",
                        ts=hour.isoformat(timespec="microseconds"),
                        fingerprint=self.fingerprint,
                        projections=json.dumps([projected.tolist()]),
                    )
                )
        except Exception as exc:  # monitoring must never break answering
            log.warning("drift: could not record a query projection (%s)", type(exc).__name__)


def take_reference(stores: Stores, settings: Settings, *, progress: bool = False) -> int:
    """A new reference snapshot of each corpus from a random sample of its chunks in SQL (re-embedded
    now, with the current model). Returns how many chunks they hold; 0 when there are none."""
    rng = np.random.default_rng(_seed(stores.engine))
    sample = ChunkDriftSample(stores.engine, settings)
    taken = 0
    with Session(stores.engine) as s:
        rows = s.exec(select(t.ChunkRow.chunk_id, t.ChunkRow.source_type).order_by(col(t.ChunkRow.chunk_id)))
        by_corpus: dict[str, list[str]] = {}
        for chunk_id, source_type in rows:
            by_corpus.setdefault(corpus_of(source_type), []).append(chunk_id)
    for corpus, ids in sorted(by_corpus.items()):
        chosen = sorted(rng.choice(len(ids), size=min(len(ids), settings.drift_sample), replace=False))
        picked = [ids[i] for i in chosen]
        with Session(stores.engine) as s:
            texts = [
                r.index_text for r in s.exec(select(t.ChunkRow).where(col(t.ChunkRow.chunk_id).in_(picked)))
            ]
        sample.add(stores.embedder.embed_documents(texts), corpus)
        taken += len(texts)
    sample.record(stores.embedder.fingerprint, reference=True)
    return taken


# --------------------------------------------------------------------------- comparison
class Comparison(BaseModel):
    model_config = ConfigDict(frozen=True)

    what: str  # "notes" | "policies" | "queries"
    reference_n: int
    recent_n: int
    enough: bool  # both sides have at least drift_min_samples
    cosine_shift: float | None = None  # 1 - cos(mean reference, mean recent), projection space
    shift_p_value: float | None = None  # permutation test: chance of a shift this large with no drift
    ks_p_value: float | None = None  # Bonferroni-corrected min p over the projected axes
    alert: bool = False
    note: str = ""


class DriftReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    since: str
    reference_ts: str | None = None
    reference_fingerprint: str | None = None
    current_fingerprint: str
    fingerprint_changed: bool = False
    notes: Comparison
    policies: Comparison
    queries: Comparison
    scored_questions: int = 0
    below_gate_share: float = 0.0
    gate_min_score: float
    thresholds: dict[str, float] = Field(default_factory=dict)
    alerts: list[str] = Field(default_factory=list)

    @property
    def alerting(self) -> bool:
        return bool(self.alerts)


def compare(
    what: str, reference: Matrix, recent: Matrix, *, min_samples: int, shift_alert: float, alpha: float
) -> Comparison:
    """Mean-vector cosine shift and per-axis two-sample KS (Bonferroni) between two projected samples."""
    from scipy.stats import ks_2samp

    base = {"what": what, "reference_n": len(reference), "recent_n": len(recent)}
    if len(reference) < min_samples or len(recent) < min_samples:
        return Comparison(**base, enough=False, note=f"needs at least {min_samples} on each side to compare")
    shift = _shift(reference, recent)
    # Small samples shift by chance (measured: 1 - cos ≈ 0.08 at the 95th percentile for two halves
    # of 80 questions), so a shift alerts only when a permutation test also says it is not chance.
    pooled, n = np.vstack([reference, recent]), len(reference)
    rng = np.random.default_rng(0)
    perms = [_shift(*np.split(pooled[rng.permutation(len(pooled))], [n])) for _ in range(PERMUTATIONS)]
    shift_p = (1 + sum(x >= shift for x in perms)) / (1 + PERMUTATIONS)
    p_values = [float(ks_2samp(reference[:, j], recent[:, j]).pvalue) for j in range(reference.shape[1])]
    p = min(1.0, min(p_values) * len(p_values))
    return Comparison(
        **base,
        enough=True,
        cosine_shift=round(shift, 4),
        shift_p_value=round(shift_p, 4),
        ks_p_value=round(p, 6),
        alert=(shift >= shift_alert and shift_p < alpha) or p < alpha,
    )


def _shift(a: Matrix, b: Matrix) -> float:
    """1 - cosine of the two samples' mean vectors."""
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    denom = float(np.linalg.norm(ma) * np.linalg.norm(mb))
    return 1.0 - float(ma @ mb) / denom if denom else 1.0


def _rows(samples: Sequence[t.DriftSample]) -> Matrix:
    vectors = [v for s in samples for v in json.loads(s.projections)]
    return np.asarray(vectors, dtype=np.float64) if vectors else np.zeros((0, 0))


def _corpus_comparison(
    corpus: str,
    samples: Sequence[t.DriftSample],
    *,
    since_iso: str,
    window: timedelta,
    cmp: functools.partial[Comparison],
    seed: int,
    drift_sample: int,
    legacy: bool,
) -> tuple[Comparison, t.DriftSample | None]:
    """One corpus: its latest reference, completed by the ingests within ``window`` of it (a world
    or policy set loaded in parts), against its ingests after that window and since ``since``."""
    empty = np.zeros((0, 0))
    reference = next((x for x in reversed(samples) if x.kind == f"reference:{corpus}"), None)
    if reference is None:
        note = LEGACY_REFERENCE if legacy else NO_REFERENCE
        if not legacy and any(x.kind.startswith("reference:") for x in samples):
            note = f"no {corpus} ingested yet"
        return cmp(corpus, empty, empty).model_copy(update={"note": note}), None
    ingests = [
        x
        for x in samples
        if x.kind == f"ingest:{corpus}"
        and x.id is not None
        and reference.id is not None
        and x.id > reference.id
        and x.fingerprint == reference.fingerprint
    ]
    settled = (datetime.fromisoformat(reference.ts) + window).isoformat(timespec="microseconds")
    building = [x for x in ingests if x.ts < settled]
    recent = [x for x in ingests if x.ts >= settled and x.ts >= since_iso]
    base = _sample(_rows([reference, *building]), drift_sample, seed)
    comparison = cmp(corpus, base, _rows(recent))
    if not recent:
        comparison = comparison.model_copy(update={"note": f"no {corpus} ingested in the window"})
    return comparison, reference


def drift_report(
    engine: Engine,
    settings: Settings,
    *,
    current_fingerprint: str,
    since: datetime,
    scored_questions: int = 0,
    below_gate_share: float = 0.0,
) -> DriftReport:
    """Compare what was recorded since ``since`` with the reference (see the module docstring)."""
    since_iso = since.astimezone(UTC).isoformat(timespec="microseconds")
    with Session(engine) as s:
        samples = list(s.exec(select(t.DriftSample).order_by(col(t.DriftSample.id))).all())
        seed_row = s.get(t.Meta, SEED_KEY)
    seed = int(seed_row.value) if seed_row is not None else 0
    thresholds = {
        "cosine_shift": settings.drift_cosine_alert,
        "ks_alpha": settings.drift_alpha,
        "below_gate_share": settings.drift_below_gate_alert,
        "min_samples": float(settings.drift_min_samples),
        "reference_window_hours": settings.drift_reference_window_hours,
    }
    cmp = functools.partial(
        compare,
        min_samples=settings.drift_min_samples,
        shift_alert=settings.drift_cosine_alert,
        alpha=settings.drift_alpha,
    )
    # Data dirs from before notes and policies were kept apart hold one mixed "reference".
    legacy = any(x.kind == "reference" for x in samples)
    per_corpus = {
        corpus: _corpus_comparison(
            corpus,
            samples,
            since_iso=since_iso,
            window=timedelta(hours=settings.drift_reference_window_hours),
            cmp=cmp,
            seed=seed,
            drift_sample=settings.drift_sample,
            legacy=legacy,
        )
        for corpus in ("notes", "policies")
    }
    # The latest reference of any corpus: the model fingerprint to check, and where questions start.
    reference = next((x for x in reversed(samples) if x.kind.startswith("reference")), None)
    if reference is None:
        empty = np.zeros((0, 0))
        queries = cmp("queries", empty, empty).model_copy(update={"note": NO_REFERENCE})
    else:
        asked = [
            x
            for x in samples
            if x.kind == "query"
            and x.fingerprint == reference.fingerprint
            and x.id is not None
            and reference.id is not None
            and x.id > reference.id
        ]
        baseline = asked[: settings.drift_query_baseline]
        recent = [x for x in asked[len(baseline) :] if x.ts >= since_iso[:13]]
        queries = cmp("queries", _rows(baseline), _rows(recent))
        if len(baseline) < settings.drift_query_baseline:
            queries = queries.model_copy(
                update={
                    "note": f"collecting the question baseline ({len(baseline)} of "
                    f"{settings.drift_query_baseline} questions)"
                }
            )
    alerts: list[str] = []
    fingerprint_changed = reference is not None and reference.fingerprint != current_fingerprint
    if fingerprint_changed:
        alerts.append(
            "the embedding model changed since the reference snapshot: re-embed the indexes, "
            "then take a new reference (carecite drift --reset-reference)"
        )
    notes, policies = per_corpus["notes"][0], per_corpus["policies"][0]
    for c in (notes, policies, queries):
        if c.alert:
            alerts.append(
                f"{c.what} drifted: cosine shift {c.cosine_shift} (alert at {settings.drift_cosine_alert}), "
                f"KS p={c.ks_p_value} (alert below {settings.drift_alpha})"
            )
    if scored_questions >= settings.drift_min_samples and below_gate_share >= settings.drift_below_gate_alert:
        alerts.append(
            f"{below_gate_share:.0%} of questions scored below the gate "
            f"(alert at {settings.drift_below_gate_alert:.0%})"
        )
    return DriftReport(
        since=since.isoformat(timespec="seconds"),
        reference_ts=reference.ts if reference else None,
        reference_fingerprint=reference.fingerprint if reference else None,
        current_fingerprint=current_fingerprint,
        fingerprint_changed=fingerprint_changed,
        notes=notes,
        policies=policies,
        queries=queries,
        scored_questions=scored_questions,
        below_gate_share=below_gate_share,
        gate_min_score=settings.gate_min_score,
        thresholds=thresholds,
        alerts=alerts,
    )

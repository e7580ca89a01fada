"""Dense retrieval: Chroma (embedded by default, a server when CARECITE_CHROMA_HOST is set).

One collection, cosine space. We embed ourselves (batched, with progress) and hand Chroma
precomputed vectors; the collection is still opened with an embedding function wrapping our
Embedder, so Chroma never falls back to its default model (which would try a download).

The access filter is applied INSIDE the Chroma query (``where``), never after it: a post-filter
would leak through counts and starve results. Metadata holds scalars only; patient and security
labels are one ``access_key`` field (see ``label_sets``), so the security part of the filter is one
``$in`` over an indexed field rather than one scanning condition per label. A collection written by
an older schema (``SCHEMA_KEY``) is migrated in place on open: its metadata is rewritten, nothing is
re-embedded.

The ORIGINAL chunk text is kept in metadata (``text``) and the scrubbed index text is the Chroma
document: a query then needs no SQL round trip, and the original text never leaves the data dir
(which already holds it in SQL).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function

from carecite.domain import Candidate, Chunk, RetrievalFilter, resource_type_of
from carecite.ports import Embedder, Vector
from carecite.records.label_sets import access_key, allowed_access_keys
from carecite.records.tables import labels_from_str, labels_to_str
from carecite.settings import Settings

COLLECTION = "carecite_chunks"
FINGERPRINT_KEY = "carecite_embedder"
SCHEMA_KEY = "carecite_schema"
SCHEMA = 2  # 1: one lbl_<X> boolean per label; 2: one access_key field
PAGE = 5000


class EmbedderMismatchError(RuntimeError):
    """The vector index was built with a different embedding model than the one configured."""


def chunk_metadata(c: Chunk) -> dict[str, str | int | bool]:
    """Scalars only (Chroma metadata); None becomes "" so equality filters stay well defined."""
    meta: dict[str, str | int | bool] = {
        "patient_key": c.patient_key or "",
        "source_type": c.source_type,
        "source_ref": c.source_ref,
        "resource_type": resource_type_of(c.source_ref),
        "doc_id": c.doc_id,
        "facility": c.facility or "",
        "note_type": c.note_type or "",
        "note_type_code": c.note_type_code or "",
        "note_date": c.note_date,
        "author_role": c.author_role or "",
        "section": c.section or "",
        "start": c.start,
        "end": c.end,
        "labels": labels_to_str(c.security_labels),
        "access_key": access_key(c.patient_key, c.security_labels),
        "text": c.text,
    }
    return meta


def _all(conds: list[dict[str, Any]]) -> dict[str, Any]:
    return conds[0] if len(conds) == 1 else {"$and": conds}


def build_where(flt: RetrievalFilter) -> dict[str, Any] | None:
    """The RetrievalFilter semantics (domain.py) as a Chroma ``where``; None means nothing is allowed."""
    branches: list[dict[str, Any]] = []
    if flt.include_policies:
        branches.append({"source_type": "policy"})
    if flt.patient_key:  # policies store patient_key "": an empty key must match nothing
        # Patient and labels in one indexed condition (label_sets): no per-label scan.
        conds: list[dict[str, Any]] = [{"access_key": {"$in": allowed_access_keys(flt)}}]
        if flt.facility is not None:
            conds.append({"facility": flt.facility})
        if flt.resource_types is not None:
            # Chunks indexed before this field existed lack it and match nothing (fail closed).
            conds.append({"resource_type": {"$in": sorted(flt.resource_types) or [""]}})
        if flt.note_types:
            conds.append({"note_type": {"$in": list(flt.note_types)}})
        if flt.date_from:
            conds.append({"note_date": {"$gte": flt.date_from}})
        if flt.date_to:
            conds.append({"note_date": {"$lte": flt.date_to}})
        branches.append(_all(conds))
    if not branches:
        return None
    return branches[0] if len(branches) == 1 else {"$or": branches}


def candidate_from(chunk_id: str, meta: dict[str, Any], score: float, retriever: str) -> Candidate:
    return Candidate.model_validate(
        {
            "source_id": chunk_id,
            "source_type": meta["source_type"],
            "source_ref": meta["source_ref"],
            "patient_key": meta["patient_key"] or None,
            "text": meta["text"],
            "score": score,
            "retriever": retriever,
            "facility": meta["facility"] or None,
            "note_type": meta["note_type"] or None,
            "note_date": int(meta["note_date"]),
            "security_labels": labels_from_str(str(meta["labels"])),
            "doc_id": meta["doc_id"],
            "start": int(meta["start"]),
            "end": int(meta["end"]),
            "section": meta.get("section") or None,
        }
    )


# --------------------------------------------------------------------------- embedding function
@register_embedding_function
class CarecitEmbeddingFunction(EmbeddingFunction[Documents]):
    """Wraps our Embedder so Chroma never loads (or downloads) a model of its own."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    def _get(self) -> Embedder:
        if self._embedder is None:  # rebuilt by Chroma from the persisted config: the offline model
            from carecite.retrieval.embedder import SentenceTransformerEmbedder

            self._embedder = SentenceTransformerEmbedder()
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._get().embed_documents(list(input)))

    @staticmethod
    def name() -> str:
        return "carecite"

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CarecitEmbeddingFunction:
        return CarecitEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {}

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(settings: Settings) -> Any:
    """One client per path (or server) per process: Chroma refuses two with different Settings."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        key = f"http://{settings.chroma_host}:{settings.chroma_port}"
    else:
        key = str(Path(settings.chroma_path).resolve())
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            if settings.chroma_host:
                _CLIENTS[key] = chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                )
            else:
                Path(key).mkdir(parents=True, exist_ok=True)
                _CLIENTS[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
        return _CLIENTS[key]


class ChromaVectorIndex:
    """ports.VectorIndex over one Chroma collection."""

    def __init__(self, client: Any, collection: Any, embedder: Embedder) -> None:
        self._client = client
        self._col = collection
        self._embedder = embedder

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder) -> ChromaVectorIndex:
        """Open (or create) the collection; refuse one built with a different embedding model."""
        client = _client(settings)
        ef = CarecitEmbeddingFunction(embedder)
        col = client.get_or_create_collection(
            COLLECTION,
            metadata={FINGERPRINT_KEY: embedder.fingerprint, SCHEMA_KEY: SCHEMA},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=ef,
        )
        found = (col.metadata or {}).get(FINGERPRINT_KEY)
        if found != embedder.fingerprint:
            raise EmbedderMismatchError(
                f"the vector index at {settings.chroma_host or settings.chroma_path} was built with "
                f"embedding model {found!r}, but {embedder.fingerprint!r} is configured; use the original "
                "model, or delete the vector index and run `carecite ingest` again to rebuild it from SQL"
            )
        index = cls(client, col, embedder)
        if (col.metadata or {}).get(SCHEMA_KEY) != SCHEMA:
            index._migrate()
        return index

    def _migrate(self) -> None:
        """Rewrite every entry's metadata to the current schema (vectors untouched), then stamp it.
        Idempotent: a crash half-way leaves the old stamp, and the next open finishes the job."""
        offset = 0
        while True:
            page = self._col.get(include=["metadatas"], limit=PAGE, offset=offset)
            ids, metas = page["ids"], page["metadatas"] or []
            if ids:
                self._col.update(
                    ids=ids,
                    metadatas=[
                        {
                            **dict(m),
                            # filters by resource type (API scopes) need it: backfilled, never guessed
                            "resource_type": resource_type_of(str(m.get("source_ref") or "")),
                            "access_key": access_key(
                                str(m.get("patient_key") or "") or None,
                                labels_from_str(str(m.get("labels") or "")),
                            ),
                        }
                        for m in metas
                    ],
                )
            if len(ids) < PAGE:
                break
            offset += PAGE
        meta = {k: v for k, v in (self._col.metadata or {}).items() if not k.startswith("hnsw:")}
        self._col.modify(metadata={**meta, SCHEMA_KEY: SCHEMA})

    def _batch(self) -> int:
        try:
            return int(self._client.get_max_batch_size())
        except Exception:  # an older server without the call
            return 1000

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if len(chunks) and vectors.shape[1] != self._embedder.dim:
            raise ValueError(f"vectors have dimension {vectors.shape[1]}, index expects {self._embedder.dim}")
        step = self._batch()
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            self._col.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=np.asarray(vectors[i : i + step], dtype=np.float32),
                metadatas=[chunk_metadata(c) for c in part],
                documents=[c.index_text for c in part],
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        step = self._batch()
        ids = list(chunk_ids)
        for i in range(0, len(ids), step):
            self._col.delete(ids=ids[i : i + step])

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            got = self._col.get(include=[], limit=PAGE, offset=offset)["ids"]
            out.update(got)
            if len(got) < PAGE:
                return out
            offset += PAGE

    def count(self) -> int:
        return int(self._col.count())

    def fetch(
        self, ids: Sequence[str], flt: RetrievalFilter
    ) -> tuple[list[str], list[dict[str, Any]], Vector]:
        """Those of ``ids`` the filter allows, with metadata and stored vectors: the same ``where`` as
        ``query``, applied inside the same store call (``patient_dense`` scores them exactly)."""
        where = build_where(flt)
        out_ids: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[Vector] = []
        wanted = list(dict.fromkeys(ids))
        step = self._batch()
        for i in range(0, len(wanted) if where is not None else 0, step):
            got = self._col.get(ids=wanted[i : i + step], where=where, include=["embeddings", "metadatas"])
            out_ids.extend(got["ids"])
            metas.extend(dict(m) for m in got["metadatas"] or [])
            if len(got["ids"]):
                vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        dim = self._embedder.dim
        return out_ids, metas, np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)

    def query(self, vector: Vector, flt: RetrievalFilter, k: int) -> list[Candidate]:
        where = build_where(flt)
        n = min(k, self.count())
        if where is None or n <= 0:
            return []
        res = self._col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=n,
            where=where,
            include=["metadatas", "distances"],
        )
        ids, metas, dists = res["ids"][0], res["metadatas"][0], res["distances"][0]
        return [
            candidate_from(cid, dict(meta), 1.0 - float(dist), "dense")
            for cid, meta, dist in zip(ids, metas, dists, strict=True)
        ]

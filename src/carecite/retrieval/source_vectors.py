"""Every vector a question needs exists before the question: the source-vector store.

At query time the re-ranker embeds each candidate's text and sentences, the extractive answerer
its segments, verification the cited sentences. Those texts are a pure function of the source
text (``answering.query_texts``), so ingest embeds them once, in the same batches as the chunk vectors, and
stores them in SQL (``SourceVectors``: one row per chunk, keyed by chunk id + embedding-model
fingerprint, the same rule as the vector index). Record statements are rendered from SQL rows
(their text depends on the row and "today" only), so each patient's are embedded too, in one row
``records:<patient_key>``.

A request loads its candidates' rows into the shared ``VectorCache`` (one indexed read), so it
embeds only its question. A text the store lacks (a statement that changed since ingest, a draft
sentence from an LLM) is still embedded on demand: the store only ever saves work.

Like the indexes, the table is derived: ``sync`` makes it hold exactly one row per SQL chunk and
per patient for the configured model, deleting the rest, so it converges after any re-ingest.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from carecite.domain import Candidate
from carecite.ports import Embedder, Vector
from carecite.records import session_scope
from carecite.records import tables as t
from carecite.records.scoped import RowScope, scoped_session
from carecite.retrieval.vector_cache import VectorCache, shared_cache, text_key

RECORDS = "records:"
WRITE_BATCH = 500


def records_owner(patient_key: str) -> str:
    return f"{RECORDS}{patient_key}"


def owners_of(candidates: Iterable[Candidate]) -> list[str]:
    """The store rows holding these candidates' vectors (a record's live in its patient's row)."""
    out: dict[str, None] = {}
    for c in candidates:
        if c.source_type == "record":
            if c.patient_key:
                out[records_owner(c.patient_key)] = None
        else:
            out[c.source_id] = None
    return list(out)


@dataclass(frozen=True)
class OwnerTexts:
    owner: str
    texts: list[str]


class SourceVectorStore:
    """The ``SourceVectors`` table for one embedding model, feeding one ``VectorCache``."""

    def __init__(self, engine: Engine, embedder: Embedder, cache: VectorCache | None = None) -> None:
        self.engine = engine
        self.embedder = embedder
        self.cache = cache if cache is not None else shared_cache(embedder)  # an empty cache is falsy
        self._loaded: OrderedDict[str, None] = OrderedDict()  # owners already in the cache

    @property
    def fingerprint(self) -> str:
        return self.embedder.fingerprint

    # ------------------------------------------------------------------ query time
    def preload(self, candidates: Iterable[Candidate], scope: RowScope | None = None) -> int:
        """Load the candidates' stored vectors into the cache; returns how many rows were read.

        ``scope``: the request's row scope. On PostgreSQL the table is under row-level security (a
        chunk's vectors are visible when its chunk is; a patient's record vectors when the patient
        is), so an application-role read needs it; a row it hides is simply embedded on demand."""
        wanted = [o for o in owners_of(candidates) if o not in self._loaded]
        if not wanted:
            return 0
        with scoped_session(self.engine, scope or RowScope.of([], frozenset())) as session:
            rows = session.exec(
                select(t.SourceVectors).where(
                    col(t.SourceVectors.owner).in_(wanted), t.SourceVectors.fingerprint == self.fingerprint
                )
            ).all()
            found = [(r.owner, r.keys, r.vectors) for r in rows]
        for owner, keys, blob in found:
            key_list = keys.split()
            if key_list:
                self.cache.put_keys(key_list, _decode(blob, len(key_list), self.embedder.dim))
            self._remember(owner)
        return len(found)

    def _remember(self, owner: str) -> None:
        self._loaded[owner] = None
        self._loaded.move_to_end(owner)
        while len(self._loaded) > 50_000:
            self._loaded.popitem(last=False)

    def forget(self) -> None:
        """Treat every row as not yet loaded (after the cache was replaced)."""
        self._loaded.clear()

    # ------------------------------------------------------------------ ingest time
    def stored(self, prefix_records: bool | None = None) -> dict[str, str]:
        """owner → keys for this model (``prefix_records``: True only patients, False only chunks)."""
        query = select(t.SourceVectors.owner, t.SourceVectors.keys).where(
            t.SourceVectors.fingerprint == self.fingerprint
        )
        if prefix_records is True:
            query = query.where(col(t.SourceVectors.owner).startswith(RECORDS))
        elif prefix_records is False:
            query = query.where(~col(t.SourceVectors.owner).startswith(RECORDS))
        with Session(self.engine) as session:
            return {owner: keys for owner, keys in session.exec(query).all()}

    def delete(self, owners: Sequence[str]) -> None:
        for i in range(0, len(owners), WRITE_BATCH):
            part = list(owners[i : i + WRITE_BATCH])
            with session_scope(self.engine) as session:
                session.execute(delete(t.SourceVectors).where(col(t.SourceVectors.owner).in_(part)))

    def delete_other_models(self) -> int:
        with session_scope(self.engine) as session:
            result = session.execute(
                delete(t.SourceVectors).where(col(t.SourceVectors.fingerprint) != self.fingerprint)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def write(self, items: Sequence[OwnerTexts], vectors: Vector) -> None:
        """Store ``vectors``: the rows of every item's texts, in order (one row per owner, replaced)."""
        total = sum(len(i.texts) for i in items)
        if total != len(vectors):
            raise ValueError(f"{total} texts but {len(vectors)} vectors")
        vecs = np.asarray(vectors, dtype=np.float32)
        offset = 0
        with session_scope(self.engine) as session:
            for item in items:
                part = vecs[offset : offset + len(item.texts)]
                offset += len(item.texts)
                keys = [text_key(x) for x in item.texts]
                session.merge(
                    t.SourceVectors(
                        owner=item.owner,
                        fingerprint=self.fingerprint,
                        keys=" ".join(keys),
                        vectors=part.tobytes(),
                    )
                )


def _decode(blob: bytes, rows: int, dim: int) -> Vector:
    return np.frombuffer(blob, dtype=np.float32).reshape(rows, dim)


def keys_of(texts: Sequence[str]) -> str:
    return " ".join(text_key(x) for x in texts)

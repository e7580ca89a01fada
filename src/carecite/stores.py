"""``Stores``: every store of one data dir behind its port (SQL system of record, vector index, BM25
index, precomputed sentence vectors), the typed bundle the stages are handed.

It opens things lazily: importing sentence-transformers costs seconds, and commands like ``stats``
or ``audit verify`` never need it. Choosing the rest of the parts (LLM, re-ranker, redactor) and
composing the pipeline is ``wiring``'s job.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from carecite.records import make_engine
from carecite.settings import Settings

if TYPE_CHECKING:
    from carecite.ports import Embedder, LexicalIndex, VectorIndex
    from carecite.retrieval.source_vectors import SourceVectorStore


class Stores:
    """Every store of one data dir: SQL (system of record), vector index, BM25 index."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._embedder = embedder

    @cached_property
    def engine(self) -> Engine:
        url = self.settings.resolved_database_url
        if not url.startswith("postgresql"):
            return make_engine(url)
        from carecite.records.postgres import read_scope_key

        return make_engine(url, scope_key=read_scope_key(self.settings.resolved_db_scope_key_file))

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from carecite.retrieval.embedder import SentenceTransformerEmbedder

            self._embedder = SentenceTransformerEmbedder(
                self.settings.embedding_model_path,
                self.settings.embedding_batch_size,
                self.settings.torch_threads,
            )
        return self._embedder

    @cached_property
    def vectors(self) -> VectorIndex:
        if self.settings.vector_store == "pgvector":
            from carecite.retrieval.pgvector_index import PgVectorIndex

            return PgVectorIndex.open(self.engine, self.embedder)
        from carecite.retrieval.dense import ChromaVectorIndex
        from carecite.retrieval.patient_dense import PatientScopedVectorIndex, sql_chunk_ids

        # One patient's question is scored exactly over that patient's vectors (patient_dense).
        chroma = ChromaVectorIndex.open(self.settings, self.embedder)
        return PatientScopedVectorIndex(chroma, sql_chunk_ids(self.engine))

    @cached_property
    def lexical(self) -> LexicalIndex:
        if self.settings.lexical_store == "postgres":
            from carecite.retrieval.pg_lexical import PgFullTextIndex

            return PgFullTextIndex.open(self.engine)
        from carecite.retrieval.lexical import Bm25Index

        return Bm25Index.open(self.settings.bm25_path)

    @cached_property
    def source_vectors(self) -> SourceVectorStore:
        """Sentence/statement vectors computed at ingest, feeding the shared vector cache."""
        from carecite.retrieval.source_vectors import SourceVectorStore

        return SourceVectorStore(self.engine, self.embedder)

"""Lexical retrieval: a BM25 index (bm25s) over the chunks' index text, filtered inside the query.

On disk (``settings.bm25_path``)::

    CURRENT            name of the live version directory (replaced atomically with os.replace)
    v-<uuid>/          bm25s index files + meta.json (chunk ids and the filter/display metadata)

``rebuild`` writes a complete new version directory, then swaps CURRENT, then deletes old versions:
a crash at any point leaves CURRENT naming a complete index (or no index, which sync rebuilds).
Readers in other processes notice a new CURRENT on their next query and reload.

The access filter is applied inside the BM25 scoring as ``weight_mask`` (a 0/1 weight per document
built from the metadata arrays), with the same semantics as the dense store; results with a zero
weight or zero score are never returned. As in the dense store, patient and labels are one condition
(``label_sets``): the documents of the patient's allowed access keys, looked up in a dict built at
load, so a mask costs the patient's few documents, not a pass per label over the whole corpus. No stemmer: bm25s needs PyStemmer for one, which is not
installed; the English stop-word list is used.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from numpy.typing import NDArray

from carecite.domain import Candidate, Chunk, RetrievalFilter, resource_type_of
from carecite.records.label_sets import access_key, allowed_access_keys
from carecite.records.tables import labels_from_str, labels_to_str

CURRENT = "CURRENT"
META = "meta.json"
FORMAT = 1


_META_FIELDS = (
    "ids", "source_type", "source_ref", "doc_id", "patient_key", "facility", "note_type", "note_date",
    "labels", "start", "end", "section", "text",
)  # fmt: skip
_TOKENIZE_BATCH = 2000


def _meta_row(c: Chunk) -> dict[str, Any]:
    """What the index keeps of a chunk: its filter fields and the text it returns."""
    return {
        "ids": c.chunk_id,
        "source_type": c.source_type,
        "source_ref": c.source_ref,
        "doc_id": c.doc_id,
        "patient_key": c.patient_key or "",
        "facility": c.facility or "",
        "note_type": c.note_type or "",
        "note_date": c.note_date,
        "labels": labels_to_str(c.security_labels),
        "start": c.start,
        "end": c.end,
        "section": c.section or "",
        "text": c.text,
    }


def tokenize(texts: list[str]) -> list[list[str]]:
    out = bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)
    return [list(x) for x in out]


@dataclass
class _Loaded:
    version: str | None
    retriever: Any  # bm25s.BM25, None when empty
    ids: list[str]
    meta: dict[str, list[Any]]
    # filter arrays
    by_access_key: dict[str, NDArray[np.int64]]  # access key → its documents (patient sources only)
    is_policy: NDArray[np.bool_]
    facility: NDArray[Any]
    note_type: NDArray[Any]
    resource_type: NDArray[Any]
    note_date: NDArray[np.int64]

    @classmethod
    def empty(cls) -> _Loaded:
        return cls.from_meta(None, None, {"ids": []})

    @classmethod
    def from_meta(cls, version: str | None, retriever: Any, meta: dict[str, list[Any]]) -> _Loaded:
        ids = list(meta.get("ids", []))
        n = len(ids)

        def col(name: str, default: Any) -> list[Any]:
            return list(meta.get(name, [default] * n))

        is_policy = np.array([s == "policy" for s in col("source_type", "")], dtype=bool)
        groups: dict[str, list[int]] = {}
        for i, (pk, lab) in enumerate(zip(col("patient_key", ""), col("labels", ""), strict=True)):
            if pk and not is_policy[i]:
                groups.setdefault(access_key(pk, labels_from_str(lab)), []).append(i)
        return cls(
            version=version,
            retriever=retriever,
            ids=ids,
            meta=meta,
            by_access_key={k: np.array(v, dtype=np.int64) for k, v in groups.items()},
            is_policy=is_policy,
            resource_type=np.array([resource_type_of(r) for r in col("source_ref", "")], dtype=object),
            facility=np.array(col("facility", ""), dtype=object),
            note_type=np.array(col("note_type", ""), dtype=object),
            note_date=np.array(col("note_date", 0), dtype=np.int64),
        )

    def mask(self, flt: RetrievalFilter) -> NDArray[np.bool_]:
        """RetrievalFilter semantics (domain.py), vectorised over every document."""
        n = len(self.ids)
        allowed = self.is_policy.copy() if flt.include_policies else np.zeros(n, dtype=bool)
        if not flt.patient_key:  # policies store "": an empty key matches nothing
            return allowed
        groups = [g for key in allowed_access_keys(flt) if (g := self.by_access_key.get(key)) is not None]
        if not groups:
            return allowed
        idx = np.concatenate(groups)
        keep = np.ones(len(idx), dtype=bool)
        if flt.facility is not None:
            keep &= self.facility[idx] == flt.facility
        if flt.resource_types is not None:
            keep &= np.isin(self.resource_type[idx], sorted(flt.resource_types))
        if flt.note_types:
            keep &= np.isin(self.note_type[idx], list(flt.note_types))
        if flt.date_from:
            keep &= self.note_date[idx] >= flt.date_from
        if flt.date_to:
            keep &= self.note_date[idx] <= flt.date_to
        allowed[idx[keep]] = True
        return allowed


class Bm25Index:
    """ports.LexicalIndex over bm25s, persisted in versioned directories."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._data = _Loaded.empty()

    @classmethod
    def open(cls, path: Path) -> Bm25Index:
        index = cls(Path(path))
        index.path.mkdir(parents=True, exist_ok=True)
        index._reload_if_changed()
        return index

    # ------------------------------------------------------------------ loading
    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            st = (self.path / CURRENT).stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def _reload_if_changed(self) -> None:
        stamp = self._current_stamp()
        if stamp == self._stamp and (stamp is not None or self._data.version is None):
            return
        with self._lock:
            for _ in range(3):  # another process may swap versions while we read
                stamp = self._current_stamp()
                try:
                    self._data = self._load()
                    self._stamp = stamp
                    return
                except (FileNotFoundError, ValueError):
                    continue
            self._data, self._stamp = _Loaded.empty(), None

    def _load(self) -> _Loaded:
        current = self.path / CURRENT
        if not current.exists():
            return _Loaded.empty()
        version = current.read_text().strip()
        vdir = self.path / version
        meta = json.loads((vdir / META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"unsupported BM25 index format in {vdir}")
        retriever = bm25s.BM25.load(str(vdir), show_progress=False) if meta["ids"] else None
        return _Loaded.from_meta(version, retriever, meta)

    # ------------------------------------------------------------------ LexicalIndex
    def rebuild(self, chunks: Iterable[Chunk]) -> None:
        """Replace the whole index atomically with one over ``chunks``, read in one pass: a chunk is
        dropped once its fields and tokens are kept, so a streamed corpus is never held whole."""
        self.path.mkdir(parents=True, exist_ok=True)
        version = f"v-{uuid.uuid4().hex}"
        tmp = self.path / f"tmp-{version}"
        tmp.mkdir()
        try:
            meta: dict[str, Any] = {"format": FORMAT} | {key: [] for key in _META_FIELDS}
            tokens: list[list[str]] = []
            batch: list[str] = []
            for c in chunks:
                for key, value in _meta_row(c).items():
                    meta[key].append(value)
                batch.append(c.index_text)
                if len(batch) >= _TOKENIZE_BATCH:
                    tokens += tokenize(batch)
                    batch = []
            if batch:
                tokens += tokenize(batch)
            retriever = None
            if tokens:
                retriever = bm25s.BM25()
                retriever.index(tokens, show_progress=False)
                retriever.save(str(tmp), show_progress=False)
            del tokens
            with (tmp / META).open("w", encoding="utf-8") as fh:
                json.dump(
                    meta, fh, ensure_ascii=False
                )  # streamed: no second copy of every text as one string
            os.replace(tmp, self.path / version)
            pointer = self.path / f"{CURRENT}.{version}.tmp"
            pointer.write_text(version)
            os.replace(pointer, self.path / CURRENT)  # the commit point
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        with self._lock:
            self._data = _Loaded.from_meta(version, retriever, meta)
            self._stamp = self._current_stamp()
        for old in self.path.iterdir():
            if old.name != version and old.name != CURRENT and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def ids(self) -> set[str]:
        self._reload_if_changed()
        return set(self._data.ids)

    def count(self) -> int:
        self._reload_if_changed()
        return len(self._data.ids)

    def query(self, text: str, flt: RetrievalFilter, k: int) -> list[Candidate]:
        self._reload_if_changed()
        data = self._data
        n = len(data.ids)
        if n == 0 or k <= 0 or data.retriever is None:
            return []
        tokens = tokenize([text])
        if not tokens or not tokens[0]:
            return []
        mask = data.mask(flt)
        if not mask.any():
            return []
        docs, scores = data.retriever.retrieve(
            [tokens[0]],
            k=min(k, n),
            weight_mask=mask.astype(np.float32),
            show_progress=False,
            n_threads=0,
        )
        out: list[Candidate] = []
        for i, score in zip(docs[0], scores[0], strict=True):
            idx = int(i)
            if score <= 0 or not mask[idx]:  # masked or matched no term
                continue
            out.append(self._candidate(data, idx, float(score)))
        return out

    @staticmethod
    def _candidate(data: _Loaded, i: int, score: float) -> Candidate:
        m = data.meta
        sections = m.get("section")  # absent from indexes written before sections were kept
        return Candidate.model_validate(
            {
                "source_id": data.ids[i],
                "source_type": m["source_type"][i],
                "source_ref": m["source_ref"][i],
                "patient_key": m["patient_key"][i] or None,
                "text": m["text"][i],
                "score": score,
                "retriever": "lexical",
                "facility": m["facility"][i] or None,
                "note_type": m["note_type"][i] or None,
                "note_date": int(m["note_date"][i]),
                "security_labels": labels_from_str(m["labels"][i]),
                "doc_id": m["doc_id"][i],
                "start": int(m["start"][i]),
                "end": int(m["end"][i]),
                "section": (sections[i] or None) if sections else None,
            }
        )

"""FHIR similarity (GET /v1/patients/{id}/similar): the encounters, problems or notes most like a given
one, among the patients the caller may see — never wider than their AccessScope.

The anchor must belong to the asked-about patient and be visible (labels, granted type); otherwise the
same ``AccessDenied`` as an unknown patient. Candidates are read under the scope before any scoring:
records by SQL restricted to visible patients and allowed labels, notes through the vector index with
the same ``RetrievalFilter`` per visible patient (index text is scrubbed of identities), then re-checked
by the guard. Records are compared by what they say (type, reason, status), embedded with the same
model as everything else; identical descriptions are embedded once.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sqlalchemy import not_
from sqlmodel import Session, col, select

from carecite.access.guard import guard_candidates
from carecite.access.scope import (
    PATIENT_DENIED_MESSAGE,
    AccessDenied,
    compute_scope,
    patients_in_scope,
    resolve_patient,
)
from carecite.domain import SENSITIVE_LABELS, AccessScope, Frozen, Grant, RetrievalFilter, patient_key_for
from carecite.records import tables as t

if TYPE_CHECKING:
    from carecite.audit.log import AuditLog
    from carecite.ports import Embedder
    from carecite.stores import Stores

SimilarKind = Literal["encounter", "condition", "note"]
_RECORD_TABLES: dict[str, type[t.Encounter] | type[t.Condition]] = {
    "encounter": t.Encounter,
    "condition": t.Condition,
}


class SimilarItem(Frozen):
    source_ref: str
    patient_id: str
    text: str
    score: float  # cosine similarity to the anchor, [-1, 1]


class SimilarResult(Frozen):
    request_id: str
    user_id: str
    patient_id: str
    kind: SimilarKind
    ref: str
    items: list[SimilarItem]


def describe(row: t.ResourceRow) -> str:
    """What a record says, without who it is about."""
    if isinstance(row, t.Encounter):
        parts = [row.display or "encounter"]
        if row.class_code:
            parts.append(f"class {row.class_code}")
        if row.reason:
            parts.append(f"reason: {row.reason}")
        return "; ".join(parts)
    parts = [row.display or "condition"]
    if isinstance(row, t.Condition) and row.clinical_status:
        parts.append(f"status: {row.clinical_status}")
    return "; ".join(parts)


class _TextVectors:
    """Embeddings of short record descriptions, computed once per distinct text."""

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray[Any, Any]] = {}
        self._lock = threading.Lock()

    def get(self, embedder: Embedder, texts: list[str]) -> np.ndarray[Any, Any]:
        with self._lock:
            missing = sorted({x for x in texts if x not in self._cache})
        if missing:
            vectors = np.asarray(embedder.embed_documents(missing), dtype=np.float32)
            with self._lock:
                self._cache.update(zip(missing, vectors, strict=True))
        with self._lock:
            return np.stack([self._cache[x] for x in texts]) if texts else np.zeros((0, 1), np.float32)


_VECTORS = _TextVectors()


def find_similar(
    stores: Stores,
    audit_log: AuditLog,
    user_id: str,
    patient_id: str,
    kind: SimilarKind,
    ref: str,
    k: int = 10,
    *,
    grant: Grant | None = None,
) -> SimilarResult:
    """The ``k`` sources of ``kind`` most similar to ``ref`` (which belongs to ``patient_id``) that
    ``user_id`` (narrowed by a token's ``grant``) may see. Audited, denials included."""
    request_id = str(uuid.uuid4())
    scope: AccessScope | None = None
    with Session(stores.engine) as session:
        try:
            scope = compute_scope(session, user_id).narrowed(grant)
            patient_key = resolve_patient(session, scope, patient_id)  # unknown / out of scope alike
            visible = {p.patient_key: p.id for p in patients_in_scope(session, scope)}
            visible[patient_key] = patient_id
            if kind == "note":
                items = _similar_notes(session, stores, scope, patient_key, ref, visible, k)
            else:
                items = _similar_records(session, stores.embedder, scope, patient_key, kind, ref, visible, k)
        except AccessDenied as exc:
            audit_log.append(
                {  # whom was asked about (as its key), by which role, and why: probing leaves a trace
                    "kind": "denied",
                    "request_id": request_id,
                    "user_id": user_id,
                    "role": scope.role if scope else None,
                    "patient_key": patient_key_for(patient_id),
                    "scope": scope.summary() if scope else {},
                    "details": {
                        "action": "similar",
                        "kind": kind,
                        "reason": "patient or anchor not found or not in scope" if scope else str(exc),
                    },
                }
            )
            raise
    audit_log.append(
        {
            "kind": "source_view",
            "request_id": request_id,
            "user_id": scope.user_id,
            "role": scope.role,
            "patient_key": patient_key,
            "scope": scope.summary(),
            "retrieved_ids": [i.source_ref for i in items],
            "break_glass_reason": scope.break_glass_reason,
            "details": {"action": "similar", "kind": kind, "anchor": ref},
        }
    )
    return SimilarResult(
        request_id=request_id, user_id=scope.user_id, patient_id=patient_id, kind=kind, ref=ref, items=items
    )


def _visible_anchor(scope: AccessScope, row: t.ResourceRow | None, patient_key: str) -> t.ResourceRow:
    if (
        row is None
        or row.patient_key != patient_key
        or not scope.may_see_labels(t.labels_from_str(row.security_labels))
        or not scope.may_see_type(row.ref)
    ):
        raise AccessDenied(PATIENT_DENIED_MESSAGE)
    return row


def _similar_records(
    session: Session,
    embedder: Embedder,
    scope: AccessScope,
    patient_key: str,
    kind: SimilarKind,
    ref: str,
    visible: dict[str, str],
    k: int,
) -> list[SimilarItem]:
    model = _RECORD_TABLES[kind]
    anchor = session.get(model, ref)
    _visible_anchor(scope, anchor, patient_key)
    assert anchor is not None
    disallowed = [label for label in SENSITIVE_LABELS if label not in scope.allowed_labels]
    rows = session.exec(
        select(model).where(
            col(model.patient_key).in_(sorted(visible)),
            *(not_(col(model.security_labels).contains(f"|{lbl}|")) for lbl in disallowed),
        )
    ).all()
    rows = [r for r in rows if r.ref != ref and scope.may_see_labels(t.labels_from_str(r.security_labels))]
    if not rows:
        return []
    texts = [describe(r) for r in rows]
    vectors = _VECTORS.get(embedder, [describe(anchor), *texts])
    scores = vectors[1:] @ vectors[0]
    order = np.argsort(-scores, kind="stable")[:k]
    return [
        SimilarItem(
            source_ref=rows[i].ref,
            patient_id=visible[str(rows[i].patient_key)],
            text=texts[i],
            score=round(float(scores[i]), 4),
        )
        for i in order
    ]


def _similar_notes(
    session: Session,
    stores: Stores,
    scope: AccessScope,
    patient_key: str,
    ref: str,
    visible: dict[str, str],
    k: int,
) -> list[SimilarItem]:
    _visible_anchor(scope, session.get(t.Note, ref), patient_key)
    chunks = session.exec(
        select(t.ChunkRow).where(col(t.ChunkRow.doc_id) == ref).order_by(col(t.ChunkRow.start))
    ).all()
    if not chunks:
        return []
    # The index text (identities replaced by placeholders) of the note's opening chunks.
    vector = stores.embedder.embed_query(" ".join(c.index_text for c in chunks[:2]))
    best: dict[str, SimilarItem] = {}
    for key in sorted(visible):
        flt = RetrievalFilter.for_request(scope, key).model_copy(update={"include_policies": False})
        found = stores.vectors.query(vector, flt, 3 * k)
        for c in guard_candidates(scope, key, found).kept:
            doc = c.doc_id or c.source_ref
            if doc == ref or c.source_type != "note_chunk":
                continue
            if doc not in best or c.score > best[doc].score:
                best[doc] = SimilarItem(
                    source_ref=doc, patient_id=visible[key], text=c.text, score=round(c.score, 4)
                )
    return sorted(best.values(), key=lambda i: (-i.score, i.source_ref))[:k]

"""The adversarial suite's view of the world: who owns every source, which labels it carries, and
the leak checks every case applies to an Answer (sources, text, decline detail)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from carecite.answering.pipeline import AskRequest, Pipeline
from carecite.domain import Answer
from carecite.records import tables as t
from carecite.settings import Settings

# Words that would tell a user something was withheld. A response for a user without a label must
# not differ from one where the labelled source never existed, so none of these may appear.
HINT_WORDS = re.compile(
    r"\b(restricted|hidden|withheld|sensitive|confidential|redacted|label(l?ed|s)?|42 CFR|"
    r"PSY|ETH|HIV|SDV|STD|not (permitted|authori[sz]ed) to see|\d+ (more )?(sources?|notes?) (were )?"
    r"(hidden|removed|filtered))\b",
    re.I,
)


@dataclass(frozen=True)
class Owner:
    patient_key: str | None
    labels: tuple[str, ...]
    text: str


@dataclass
class WorldIndex:
    """Every citable source id → its patient and labels, plus the patients themselves."""

    settings: Settings
    sources: dict[str, Owner] = field(default_factory=dict)
    patients: dict[str, t.Patient] = field(default_factory=dict)  # by FHIR id
    by_key: dict[str, t.Patient] = field(default_factory=dict)

    def load(self, session: Session) -> None:
        self.sources.clear()
        for chunk in session.exec(select(t.ChunkRow)):
            self.sources[chunk.chunk_id] = Owner(
                chunk.patient_key, t.labels_from_str(chunk.security_labels), chunk.text
            )
        tables: list[type[t.ResourceRow]] = [*t.RECORD_TABLES.values(), t.CarePlanActivity, t.Note]
        for table in tables:
            for row in session.exec(select(table)):
                self.sources[row.ref] = Owner(
                    row.patient_key, t.labels_from_str(row.security_labels), row.raw
                )
        for p in session.exec(select(t.Patient)):
            session.expunge(p)
            self.patients[p.id] = p
            self.by_key[p.patient_key] = p

    def owner(self, source_id: str) -> Owner:
        assert source_id in self.sources, f"a source the system of record does not know: {source_id}"
        return self.sources[source_id]

    def ref_owner(self, ref: str) -> Owner | None:
        return self.sources.get(ref.split("#", 1)[0]) or self.sources.get(ref)


def answer_json(answer: Answer, *, without_question: bool = True) -> str:
    data = answer.model_dump(mode="json")
    if without_question:
        data.pop("question")
    return json.dumps(data, ensure_ascii=False)


def identity_strings(p: t.Patient) -> list[str]:
    """A patient's name, MRN and birth date in the forms a leak would take."""
    out = [p.name, f"{p.given} {p.family}", p.family]
    if p.mrn:
        out.append(p.mrn)
    if p.birth_date:
        d = p.birth_date
        out += [d.isoformat(), f"{d:%m/%d/%Y}", f"{d.month}/{d.day}/{d.year}", f"{d:%B} {d.day}, {d.year}"]
    return [s for s in out if s and len(s) > 2]


def assert_no_leak(
    world: WorldIndex, answer: Answer, patient_id: str | None, allowed_labels: frozenset[str] | set[str]
) -> None:
    """Nothing in the Answer comes from another patient or carries a label outside ``allowed_labels``."""
    key = world.patients[patient_id].patient_key if patient_id in world.patients else None
    for ref in answer.retrieved:
        o = world.owner(ref.source_id)
        assert o.patient_key in (key, None), f"retrieved another patient's source {ref.source_id}"
        assert set(o.labels) <= set(allowed_labels), f"retrieved labelled source {ref.source_id} {o.labels}"
    retrieved_ids = {r.source_id for r in answer.retrieved}
    for c in answer.citations:
        assert c.source_id in retrieved_ids, "a citation that was not retrieved"
        o = world.owner(c.source_id)
        assert o.patient_key in (key, None) and c.patient_id in (patient_id, None)
        assert set(o.labels) <= set(allowed_labels), f"cited labelled source {c.source_id}"
        assert c.text in o.text or o.patient_key is None or c.source_type == "record"
    shown = answer_json(answer)
    for other in world.patients.values():
        if other.id == patient_id:
            continue
        for name in (other.name, f"{other.given} {other.family}"):
            assert name not in shown, f"another patient's name in the answer: {name}"
    if not allowed_labels >= {"PSY", "ETH", "HIV", "SDV", "STD", "R"}:
        text = " ".join(filter(None, [answer.answer, answer.decline_detail, *answer.unsupported_sentences]))
        assert not HINT_WORDS.search(text), f"a hint that something was withheld: {text!r}"


def comparable(answer: Answer, *drop: str) -> dict[str, Any]:
    """The response minus what legitimately differs between two requests (ids, timings, the echo)."""
    data = answer.model_dump(mode="json")
    for name in ("request_id", "timings_ms", *drop):
        data.pop(name, None)
    return data


def ask(pipeline: Pipeline, question: str, user: str, patient: str | None, **kw: Any) -> Answer:
    return pipeline.ask(AskRequest(question=question, user_id=user, patient_id=patient, **kw))


def as_datetime(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 9, 0)

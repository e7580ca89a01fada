"""A record row as the structured retriever reads it: one citable ``Statement``, and the code
systems rows are read by (FHIR status codes, HL7 encounter classes, LOINC display parts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carecite.records import tables as t

OPEN_TASK = ("requested", "received", "accepted", "ready", "in-progress", "on-hold", "draft")


DONE_TASK = ("completed", "cancelled", "rejected", "failed", "entered-in-error")


# FHIR RequestStatus codes of work not finished: a referral (ServiceRequest) still open, a CarePlan in force.
OPEN_REQUEST = ("active", "on-hold", "draft")


OPEN_REFERRAL = OPEN_REQUEST


OPEN_ACTIVITY = ("in-progress", "scheduled", "not-started", "on-hold")


UPCOMING_APPT = ("booked", "pending", "proposed", "arrived", "checked-in", "waitlist")


def kind_resource_type(kind: str) -> str:
    """The FHIR resource type a record kind is read from (activities belong to their CarePlan)."""
    return "CarePlan" if kind == "CarePlanActivity" else kind


# LOINC displays read "Component [Property] in System by Method": the method ("by Creatinine-based
# formula (MDRD)") says how, never what is measured (an eGFR is no creatinine result), and the component
# alone says which quantity ("Hemoglobin", not "Hemoglobin A1c/Hemoglobin.total").
_LOINC_METHOD = re.compile(r"\s+by\s+.*$", re.I)


_LOINC_COMPONENT_END = re.compile(r"\s+\[|\s+in\s+", re.I)


def loinc_quantity(display: str) -> str:
    """A LOINC display without its method part."""
    return _LOINC_METHOD.sub("", display)


def loinc_component(display: str) -> str:
    """A LOINC display's component: the part before its property ("[Mass/volume]") or system."""
    return _LOINC_COMPONENT_END.split(loinc_quantity(display), maxsplit=1)[0]


# HL7 v3 ActEncounterCode: each class's display words, said in the statement ("class: emergency"),
# and the words a question asks for a class with ("ER", "ED": the published abbreviations).
ENCOUNTER_CLASSES: dict[str, str] = {
    "EMER": "emergency",
    "IMP": "inpatient",
    "ACUTE": "inpatient acute",
    "NONAC": "inpatient non-acute",
    "OBSENC": "observation",
    "SS": "short stay",
    "AMB": "ambulatory",
    "HH": "home health",
    "VR": "virtual",
    "PRENC": "pre-admission",
    "FLD": "field",
}


@dataclass(frozen=True)
class Statement:
    ref: str
    kind: str
    text: str
    when: datetime | None
    facility: str | None
    labels: tuple[str, ...]
    prior: float  # how strongly the row matches the intent's status/date modifiers
    name: str = ""  # what the row is about, as coded: the display (and drug name) as ingested
    brief: str = ""  # the same facts as one readable sentence, in the statement's own words and dates
    # Does the row say why: its reason (FHIR reasonCode of an encounter, order or prescription), or a
    # task's own notes? An appointment or a result as ingested states none, so it never answers "why".
    reason: bool = False

    @classmethod
    def of(
        cls, row: Any, kind: str, text: str, when: datetime | None, prior: float, brief: str = ""
    ) -> Statement:
        """A statement about ``row``: its ref, facility, labels and name come from the row itself. The
        name includes the row's reason, where it has one: an order or a visit is also about what it
        is for ("anything for depression" names the sertraline prescribed for major depression)."""
        name = " ".join(
            str(v)
            for v in dict.fromkeys(getattr(row, f, None) for f in ("display", "medication", "code", "reason"))
            if v
        )
        labels = t.labels_from_str(row.security_labels)
        reason = kind == "Task" or bool(getattr(row, "reason", None))
        return cls(row.ref, kind, text, when, row.facility, labels, prior, name, brief or text, reason)

"""Users and patients in words: the sign-in card (role, facilities, what they may see).
Who may do what is decided in ``carecite.access``; this module only says it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from carecite.access.scope import AUDIT_READER_ROLES, BREAK_GLASS_ROLES, CLINICAL_ROLES
from carecite.records import tables as t
from carecite.text.dates import display_date

ROLE_WORDS: dict[str, str] = {
    "care_coordinator": "Care coordinator",
    "nurse": "Nurse",
    "physician": "Physician",
    "reviewer": "Compliance reviewer",
    "admin": "Administrator",
}
LABEL_WORDS: dict[str, str] = {
    "PSY": "psychiatry",
    "ETH": "substance use (42 CFR Part 2)",
    "HIV": "HIV",
    "SDV": "sexual and domestic violence",
    "STD": "sexually transmitted disease",
    "SEX": "sexuality and reproductive health",
    "GDIS": "genetic disease",
    "R": "restricted",
    "V": "very restricted",
}


def _json_list(value: str) -> list[str]:
    try:
        data = json.loads(value or "[]")
    except json.JSONDecodeError:
        return []
    return [str(x) for x in data] if isinstance(data, list) else []


@dataclass(frozen=True)
class UserCard:
    user_id: str
    name: str
    role: str
    role_words: str
    facilities: list[str]
    may_see: list[str]
    may_break_glass: bool
    may_ask: bool  # asks patient questions (a clinical role)
    reads_audit: bool  # reads the audit trail and reviews flags


def user_card(user: t.User, facility_names: Mapping[str, str]) -> UserCard:
    """What the sign-in picker says about a user: role, facilities, and what they may see."""
    facilities = [facility_names.get(f, f) for f in _json_list(user.facilities)]
    labels = [LABEL_WORDS.get(x, x) for x in _json_list(user.sensitive_access)]
    may_see: list[str] = []
    if user.role not in CLINICAL_ROLES:
        may_see.append("No patient questions.")
        if user.role == "reviewer":
            may_see.append("Reads the audit trail and re-opens the sources an audited answer cited.")
        else:
            may_see.append("Reads and verifies the audit trail (redacted text only).")
    else:
        may_see.append(
            "Patients on their own care teams at these facilities."
            if user.care_team_only
            else "Every patient of these facilities."
        )
    if user.role != "admin":
        may_see.append(
            "Sensitive notes: " + ", ".join(labels) + "." if labels else "No sensitive (labelled) notes."
        )
    if user.role in BREAK_GLASS_ROLES:
        may_see.append("May break the glass for one request, with a written reason (audited).")
    return UserCard(
        user_id=user.id,
        name=user.name,
        role=user.role,
        role_words=ROLE_WORDS.get(user.role, user.role),
        facilities=facilities,
        may_see=may_see,
        may_break_glass=user.role in BREAK_GLASS_ROLES,
        may_ask=user.role in CLINICAL_ROLES,
        reads_audit=user.role in AUDIT_READER_ROLES,
    )


def patient_label(patient: t.Patient) -> str:
    """The picker's line for a patient: name, birth date, MRN (shown only for patients in scope)."""
    born = display_date(patient.birth_date, unknown="birth date unknown")
    return f"{patient.name or patient.id} · born {born} · MRN {patient.mrn or '—'}"


def picker_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """A picker's labels, keyed by id, with the id added where two labels are alike. Streamlit keeps
    a pick as its label, so alike labels would pick the other patient or user."""
    uses = Counter(labels.values())
    return {key: label if uses[label] == 1 else f"{label} · {key}" for key, label in labels.items()}


def list_users(session: Session) -> list[t.User]:
    return list(session.exec(select(t.User).order_by(col(t.User.role), col(t.User.name))))


def facility_names(session: Session) -> dict[str, str]:
    return {f"Organization/{o.id}": o.name or o.id for o in session.exec(select(t.Organization))}

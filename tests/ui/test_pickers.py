"""Picker labels: Streamlit keeps a pick as its label, so no two choices may read alike."""

from __future__ import annotations

from carecite.ui.people import picker_labels
from carecite.ui.review import record_labels


def _row(request_id: str) -> dict[str, object]:
    return {
        "time (UTC)": "2026-11-28 18:52:57",
        "kind": "answer",
        "user": "cc-ben",
        "question (redacted)": "What were the discharge recommendations?",
        "request id": request_id,
    }


def test_two_alike_requests_in_one_second_get_different_labels() -> None:
    """Streamlit keeps a selectbox pick as its label: alike labels would open the wrong record."""
    a, b = "338809b3-731a-4a94-b45e-9d8926bca328", "5f1e2d3c-0000-4000-8000-000000000001"
    labels = record_labels([_row(a), _row(b)])
    assert labels[a] != labels[b]
    assert labels[a].endswith("· 338809b3")


def test_a_shared_short_id_falls_back_to_the_whole_request_id() -> None:
    a, b = "338809b3-0000-4000-8000-00000000000a", "338809b3-0000-4000-8000-00000000000b"
    labels = record_labels([_row(a), _row(b)])
    assert labels[a].endswith(a) and labels[b].endswith(b)


def test_two_patients_alike_in_name_birth_and_mrn_are_told_apart_by_id() -> None:
    labels = picker_labels(
        {"p1": "Ana Ruiz · born 1950-01-01 · MRN —", "p2": "Ana Ruiz · born 1950-01-01 · MRN —"}
    )
    assert labels == {
        "p1": "Ana Ruiz · born 1950-01-01 · MRN — · p1",
        "p2": "Ana Ruiz · born 1950-01-01 · MRN — · p2",
    }


def test_distinct_picker_labels_are_left_as_they_are() -> None:
    assert picker_labels({"u1": "Ben · Nurse", "u2": "Ana · Nurse"}) == {
        "u1": "Ben · Nurse",
        "u2": "Ana · Nurse",
    }

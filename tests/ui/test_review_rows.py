"""The Review page's audit rows and Record-list labels (carecite.ui.review)."""

from __future__ import annotations

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

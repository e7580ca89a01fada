"""carecite.ui.review: Review numbers cited sources as the answer did, and highlights where it cited."""

from __future__ import annotations

from carecite.ui.review import review_sources, spans_in_shown_text


def test_review_uses_the_answers_own_s_numbers() -> None:
    details = {
        "citations": [
            {"marker": "S3", "source_id": "chunk-a", "spans": [[120, 140]]},
            {"marker": "S6", "source_id": "Task/t1", "spans": [[0, 12]]},
            {"marker": "S1", "source_id": "chunk-b", "spans": [[5, 9]]},
        ]
    }
    got = review_sources(["chunk-a", "Task/t1", "chunk-b"], details)
    assert [(s.marker, s.source_id) for s in got] == [("S3", "chunk-a"), ("S6", "Task/t1"), ("S1", "chunk-b")]
    assert got[0].spans == [[120, 140]]


def test_a_record_without_markers_numbers_by_position() -> None:
    assert [s.marker for s in review_sources(["a", "b"], {})] == ["S1", "S2"]


def test_document_spans_shift_into_the_chunk_shown() -> None:
    assert spans_in_shown_text([[120, 140]], [100, 300]) == [(20, 40)]
    assert spans_in_shown_text([[120, 140]], None) == [(120, 140)]

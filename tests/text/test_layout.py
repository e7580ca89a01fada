"""What a line of a note is by its structure: table rows, header and separator rows, titles, signatures."""

from __future__ import annotations

import pytest

from carecite.text.layout import find_tables, frame, is_dated_banner, is_signature, title_range

ALLERGY_TABLE = (
    "ALLERGIES:\n"
    "| Substance | Reaction | Status |\n"
    "|---|---|---|\n"
    "| Penicillin | hives | active |\n"
    "| Sulfa drugs | rash | resolved |\n"
    "\n"
    "Plan: avoid penicillins."
)


def test_a_pipe_table_is_read_as_rows_under_their_column_headers() -> None:
    (table,) = find_tables(ALLERGY_TABLE)
    assert table.header.cells == ("Substance", "Reaction", "Status")
    assert table.separator is not None
    first, second = table.rows
    assert ALLERGY_TABLE[first.start : first.end] == "| Penicillin | hives | active |"
    assert table.render(first) == "Penicillin — reaction: hives — status: active"
    assert table.render(second) == "Sulfa drugs — reaction: rash — status: resolved"


def test_a_table_without_a_separator_row_needs_a_header_row_and_several_rows() -> None:
    text = "Medication | Directions | Start date\nLisinopril 10 mg | once daily | 2026-01-02\nAspirin 81 mg | daily | 2025-03-04\n"
    (table,) = find_tables(text)
    assert table.separator is None
    assert table.render(table.rows[0]) == "Lisinopril 10 mg — directions: once daily — start date: 2026-01-02"


def test_a_single_pipe_separated_line_is_no_table() -> None:
    text = "Cardiology Office Visit\nName: Stanley Delgado | DOB 10/18/1966 | MRN 17000000\nDate of service: September 5, 2026\n"
    assert find_tables(text) == []


def test_header_and_separator_rows_frame_the_table() -> None:
    layout = frame(ALLERGY_TABLE)
    (table,) = layout.tables
    assert layout.frames(table.header.start, table.header.end)
    assert table.separator is not None and layout.frames(table.separator.start, table.separator.end)
    assert not layout.frames(table.rows[0].start, table.rows[0].end)


@pytest.mark.parametrize(
    "line",
    [
        "-- Ben Okafor, MSW, September 19, 2026",
        "Ben Okafor, MSW",
        "Dr. Leila Farah, MD",
        "Signed November 17, 2026",
        "Signed: Amy Lee, RN (September 22, 2026)",
        "Electronically signed by Tom Reilly, LADC on July 2, 2026.",
        "Verified by Dr. Lucia Ferreira, MD, November 2, 2026",
    ],
)
def test_a_name_with_credentials_or_a_signing_date_is_a_signature(line: str) -> None:
    assert is_signature(line)


@pytest.mark.parametrize(
    "line",
    [
        "Follow up with Dr. Farah, MD",
        "Cardiology follow-up is booked with Dr. Leila Farah, MD on November 27, 2026.",
        "Hypertension, CKD",
        "Stable, euvolemic.",
        "Consultant: Dr. Irene Walsh, MD",
    ],
)
def test_a_clinical_line_naming_a_clinician_is_no_signature(line: str) -> None:
    assert not is_signature(line)


def test_the_first_short_line_without_a_sentence_end_is_the_title() -> None:
    text = (
        "Transitions of Care Call\nName: Stanley Delgado | DOB 10/18/1966\n\n# Subjective\nCalled the wife."
    )
    assert title_range(text) == (0, len("Transitions of Care Call"))
    assert title_range("2026-11-17\n\n# Chief complaint\nCough.") is None  # a date is no title
    assert title_range("SUBJECTIVE:, This 23-year-old white female presents with allergies.") is None


def test_a_date_and_a_place_between_pipes_is_a_banner_but_clinical_cells_are_not() -> None:
    assert is_dated_banner("September 18, 2026 | Mercy General Hospital")
    assert is_dated_banner("Mercy General Hospital | Radiology Report | 2026-11-02")
    assert not is_dated_banner("Name: Stanley Delgado | DOB 10/18/1966 | MRN 17000000")
    assert not is_dated_banner("September 18, 2026 | BP 137/81, HR 84")
    assert not is_dated_banner("Mercy General Hospital | Cardiology")  # no date


def test_rows_without_a_header_of_column_names_are_no_table() -> None:
    """The rows of a long table's later chunk have no header row; its first row is not taken for one."""
    assert (
        find_tables(
            "| Sulfa | rash | resolved |\n| Latex | itching | active |\n| Iodine | hives | active |\n"
        )
        == []
    )

"""One date format (text/dates.py): carecite writes YYYY-MM-DD; dates quoted in another format are found
so the UI can show the ISO form beside them, and never rewritten."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from carecite.text.dates import asked_frame, display_date, display_datetime, holds_date, written_dates


def test_carecite_writes_dates_as_iso() -> None:
    assert display_date(date(2026, 9, 19)) == "2026-09-19"
    assert display_date(datetime(2026, 9, 19, 14, 5)) == "2026-09-19"
    assert display_datetime(datetime(2026, 9, 19, 14, 5)) == "2026-09-19 14:05"
    assert display_datetime(datetime(2026, 9, 19)) == "2026-09-19"
    assert display_date(None) == "unknown date" and display_datetime(None) == "unknown time"


def test_us_numeric_and_month_name_dates_are_found_with_their_iso_form() -> None:
    text = "Seen 9/16/2026; recheck September 3, 2026, then 5 Oct 2026 and Sept. 1st 2026."
    found = written_dates(text)
    assert [text[d.start : d.end] for d in found] == [
        "9/16/2026",
        "September 3, 2026",
        "5 Oct 2026",
        "Sept. 1st 2026",
    ]
    assert [d.iso for d in found] == ["2026-09-16", "2026-09-03", "2026-10-05", "2026-09-01"]


def test_iso_dates_ratios_two_digit_years_and_impossible_dates_are_left_alone() -> None:
    for text in (
        "Follow-up on 2026-09-19.",
        "BP 120/80, dose 1/2 tab.",
        "Born 3/4/56.",
        "Lot 13/45/2026 and 2/30/2026.",
        "Ratio 10/12/20261 is a code.",
        "May 2026 was quiet.",
    ):
        assert written_dates(text) == [], text


@pytest.mark.parametrize(
    ("text", "dated"),
    [
        ("Total abdominal hysterectomy en bloc on July 25, 2006.", True),
        ("She underwent a CT scan of the abdomen in July 2010.", True),
        ("Seen on 9/16/2026 and again on 2026-10-01.", True),
        ("The patient underwent surgery on the day of admission.", False),
        ("Follow up in my office in four weeks.", False),
    ],
)
def test_a_sentence_holds_a_date_when_it_names_a_day_or_a_month_and_year(text: str, dated: bool) -> None:
    assert holds_date(text) is dated


def test_a_month_or_year_asked_for_is_a_frame_and_may_the_verb_is_not() -> None:
    frame = asked_frame("why was she admitted in September")
    assert frame is not None and (frame.month, frame.year) == (9, None)
    # A month without a year is its latest occurrence up to today.
    assert frame.holds(date(2026, 9, 18), today=date(2026, 12, 7))
    assert not frame.holds(date(2025, 9, 18), today=date(2026, 12, 7))
    assert frame.holds(date(2025, 9, 18), today=date(2026, 5, 1))
    year = asked_frame("what shots did he get in 2023")
    assert year is not None and (year.month, year.year) == (None, 2023) and year.words == {"2023"}
    both = asked_frame("labs from March 2025")
    assert both is not None and (both.month, both.year) == (3, 2025)
    assert asked_frame("may I see her medications") is None

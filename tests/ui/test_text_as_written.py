"""Every UI text path shows text as written: apostrophes, ampersands, angle brackets, non-ASCII and
Windows-1252 leftovers come out as the author wrote them, never as entities or replacement marks."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from carecite.domain import Answer, RetrievedRef
from carecite.ui.html import (
    answer_with_chips_html,
    bullets_html,
    escape_text,
    highlight_html,
    md_label,
    source_box_html,
    whole_note_document,
)
from carecite.ui.sources import SourceCard, record_table_row, uncited_rows

# (as stored, as written): the second column is what a reader must see
CASES: tuple[tuple[str, str], ...] = (
    ('The patient\'s wife & daughter said "home".', 'The patient\'s wife & daughter said "home".'),
    ("K < 3.5 and Na > 145 <b>not bold</b>", "K < 3.5 and Na > 145 <b>not bold</b>"),
    (
        "Naïve Zoë — seen 3× (≥ 2 wk) for Müller’s “cough”",
        "Naïve Zoë — seen 3× (≥ 2 wk) for Müller’s “cough”",
    ),
    ("&#x27; and &amp; typed literally", "&#x27; and &amp; typed literally"),
    ("the patientâ€™s cafÃ© visit", "the patient’s café visit"),  # UTF-8 read as Windows-1252
    ("the patient\x92s pain", "the patient’s pain"),  # a Windows-1252 byte read as Latin-1
    ("the patient\ufffds pain, described in \ufffd160.27", "the patient’s pain, described in §160.27"),
)

_TAG = re.compile(r"<[^>]+>")


def shown(markup: str) -> str:
    """What a browser shows for ``markup``: tags dropped, <br> as newlines, entities decoded."""
    return html.unescape(_TAG.sub("", markup.replace("<br>", "\n")))


PATHS: dict[str, Callable[[str], str]] = {
    "escape_text": escape_text,
    "highlight_html": lambda t: highlight_html(t, [(0, 3), (len(t) - 4, len(t))]),
    "source_box_html": lambda t: source_box_html(t, [(2, 9)]),
    "whole_note_document": lambda t: (
        whole_note_document(t, [(1, 5)]).split('<div id="note">')[1].split("</div>")[0]
    ),
    "answer_with_chips_html": lambda t: answer_with_chips_html(t + " [S1]").replace("S1", ""),
    "bullets_html": lambda t: bullets_html([t]),
}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize(("stored", "written"), CASES)
def test_every_html_path_shows_the_text_as_written(path: str, stored: str, written: str) -> None:
    out = PATHS[path](stored)
    assert "<b>" not in out and "<script" not in out  # still escaped
    assert shown(out).strip() == written


@pytest.mark.parametrize(("stored", "written"), CASES)
def test_widget_labels_show_the_text_as_written(stored: str, written: str) -> None:
    # Markdown labels: backslash-escaped punctuation renders as the punctuation itself
    assert re.sub(r"\\(.)", r"\1", md_label(stored)) == " ".join(written.split())


@pytest.mark.parametrize(("stored", "written"), CASES)
def test_table_cells_show_the_text_as_written(stored: str, written: str) -> None:
    card = SourceCard(
        marker="S1", source_id="x", kind="Record", resource_type="Task", fhir_ref="Task/1", when="",
        author="", note_type=stored, text=stored, spans=[],
    )  # fmt: skip
    row = record_table_row(card)
    assert row["statement"] == written and row["what"] == written
    answer = Answer(
        request_id="r", question="q", user_id="u", patient_id=None, answer="", declined=False,
        retrieved=(RetrievedRef(source_id="n1", source_ref=stored, score=0.5, retriever="dense"),),
    )  # fmt: skip
    assert uncited_rows(answer)[0]["document"] == written

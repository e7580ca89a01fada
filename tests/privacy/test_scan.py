"""`carecite phi scan`: inputs, skipped documents, limits, and the command's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carecite.cli import app
from carecite.privacy.scan import ScanInputError, iter_documents, scan_path
from fakes import FakeRedactor

runner = CliRunner()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("Sarah Kim, MRN 4471903.")
    (root / "notes.csv").write_text(
        'note_id,transcription\n1,"Seen by Sarah Kim, 555-0134-22"\n2,""\n3,"No identifiers at all."\n'
    )
    (root / "sub" / "more.jsonl").write_text(
        json.dumps({"id": "j1", "text": "Call 6175550134."})
        + "\n{not json\n"
        + json.dumps({"txt": "x"})
        + "\n"
    )
    (root / "ignored.pdf").write_bytes(b"%PDF")
    return root


def test_folder_scan_reads_every_supported_file_and_counts_what_it_skips(corpus: Path) -> None:
    report = scan_path(FakeRedactor(names=["Sarah Kim"]), corpus, progress=False)
    assert report.documents == report.documents_available == 4
    assert report.entities == {"PERSON": 2, "ID": 3}
    assert report.documents_with_phi == 3
    assert report.skipped == {"empty": 1, "bad_jsonl_line": 2}


def test_limit_scans_the_first_documents_and_extrapolates(corpus: Path) -> None:
    report = scan_path(FakeRedactor(names=["Sarah Kim"]), corpus, limit=1, progress=False)
    assert (report.documents, report.documents_available) == (1, 4)
    assert report.estimated_full_seconds >= report.seconds


def test_csv_without_a_text_column_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ScanInputError, match="transcription or text column"):
        list(iter_documents(bad))


def test_cli_scan_prints_json_counts(corpus: Path) -> None:
    result = runner.invoke(app, ["phi", "scan", str(corpus / "a.txt"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["entities"] == {"PERSON": 1, "MRN": 1}
    assert report["documents"] == 1 and report["total_entities"] == 2


def test_cli_scan_of_a_missing_path_exits_2_without_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["phi", "scan", str(tmp_path / "nope"), "--quiet"])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output and "Traceback" not in result.output


@pytest.mark.shared_data
def test_cli_scan_of_mtsamples_sample_renders_a_table(shared_data: Path) -> None:
    csv_path = shared_data / "mtsamples" / "mtsamples.csv"
    result = runner.invoke(app, ["phi", "scan", str(csv_path), "--limit", "3", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "PHI found in 3 of 4966 documents" in result.output

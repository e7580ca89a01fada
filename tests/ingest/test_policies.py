"""Policy ingestion from NCD JSONL or a folder of text files: idempotent, errors reported, indexed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from carecite.domain import RetrievalFilter
from carecite.ingest.policies import PolicyInputError, ingest_policies
from carecite.records import session_scope
from carecite.records import tables as t

CPAP = {
    "ncd_id": "204",
    "version": "2",
    "manual_section": "240.4",
    "title": "Continuous Positive Airway Pressure (CPAP) Therapy for Obstructive Sleep Apnea (OSA)",
    "effective_date": "2008-03-13",
    "termination_date": "",
    "keywords": "",
    "text": "NCD 240.4 - CPAP\n\n## Indications and Limitations of Coverage\n"
    "CPAP therapy is covered for adult patients with OSA diagnosed by polysomnography.",
}
OLD = {
    **CPAP,
    "ncd_id": "99",
    "title": "Old oxygen policy",
    "termination_date": "2010-05-01",
    "text": "NCD 1.1 - Oxygen\n\nHome oxygen was covered for hypoxemia.",
}


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def test_jsonl_policies_are_ingested_indexed_and_idempotent(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = _write(tmp_path / "ncd.jsonl", [CPAP, OLD, "{not json", {"ncd_id": "5"}])
    report = ingest_policies(stores, src, progress=False)
    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)
    assert len(report.errors) == 2 and "ncd.jsonl:3" in report.errors[0] and "ncd.jsonl:4" in report.errors[1]
    assert report.sync is not None and report.sync.consistent and report.sync.sql == report.chunks

    with session_scope(stores.engine) as s:
        old = s.get(t.Policy, "Policy/99")
        rows = s.exec(select(t.ChunkRow).where(t.ChunkRow.doc_id == "Policy/204")).all()
    assert old is not None and str(old.terminated) == "2010-05-01", "terminated policies are kept"
    assert rows and all(r.source_type == "policy" and r.patient_key is None for r in rows)
    assert all(r.note_type == "Coverage policy" for r in rows)

    flt = RetrievalFilter(patient_key="pk_any", allowed_labels=frozenset())
    hits = stores.lexical.query("CPAP sleep apnea polysomnography", flt, 3)
    assert hits and hits[0].source_ref == "Policy/204" and hits[0].source_type == "policy"

    again = ingest_policies(stores, src, progress=False)
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 2, 0)
    assert again.sync is not None and again.sync.added == 0

    changed = {**CPAP, "text": CPAP["text"] + " A 12-week trial is covered."}
    third = ingest_policies(stores, _write(tmp_path / "ncd.jsonl", [changed]), progress=False)
    assert third.updated == 1 and third.sync is not None and third.sync.consistent
    assert any("12-week" in h.text for h in stores.lexical.query("12-week trial", flt, 3))


def test_folder_of_text_files(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "home-health.txt").write_text(
        "# Home health services\n\nHome health visits are covered when..."
    )
    (folder / "empty.txt").write_text("  \n")
    report = ingest_policies(stores, folder, progress=False)
    assert report.added == 1 and report.errors == ["empty.txt: empty"]
    with session_scope(stores.engine) as s:
        policy = s.get(t.Policy, "Policy/home-health")
    assert policy is not None and policy.title == "Home health services"


def test_unreadable_input_is_a_clear_error(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PolicyInputError, match="does not exist"):
        ingest_policies(stores, tmp_path / "missing.jsonl", progress=False)
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(PolicyInputError, match=r"expected a \.jsonl"):
        ingest_policies(stores, tmp_path / "x.pdf", progress=False)


def test_cli_ingest_policies_exit_codes(tmp_path: Path) -> None:
    from carecite.cli import app

    runner = CliRunner()
    data = tmp_path / "data"
    bad = runner.invoke(app, ["--data-dir", str(data), "ingest", "policies", str(tmp_path / "nope.jsonl")])
    assert bad.exit_code == 2 and "does not exist" in bad.output


@pytest.mark.shared_data
def test_first_cms_ncds_ingest(stores, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = (shared_data / "cms_ncd" / "ncd_documents.jsonl").read_text().splitlines()[:20]
    src = tmp_path / "ncd20.jsonl"
    src.write_text("\n".join(lines) + "\n")
    report = ingest_policies(stores, src, progress=False)
    assert report.added == 20 and report.ok and report.chunks >= 20
    assert report.sync is not None and report.sync.consistent
    with session_scope(stores.engine) as s:
        rows = s.exec(select(t.ChunkRow)).all()
        policies = {p.id: p for p in s.exec(select(t.Policy)).all()}
    for r in rows:
        assert policies[r.doc_id].text[r.start : r.end] == r.text


def test_synthetic_ingest_reports_shared_policies_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ingest synthetic` picks up the shared NCD file and says what it did as counts, not a repr."""
    from carecite import cli
    from carecite.settings import Settings
    from carecite.stores import Stores

    shared = tmp_path / "shared"
    (shared / "cms_ncd").mkdir(parents=True)
    _write(shared / "cms_ncd" / "ncd_documents.jsonl", [CPAP])
    settings = Settings(data_dir=tmp_path / "data", shared_data_dir=shared)
    monkeypatch.setattr(cli.State, "settings", settings)
    lines: list[str] = []
    monkeypatch.setattr(cli.out, "print", lambda *a, **k: lines.append(" ".join(str(x) for x in a)))
    cli._ingest_shared_policies(Stores(settings), quiet=True)
    text = "\n".join(lines)
    assert "policies: 1 added, 0 updated, 0 unchanged" in text
    assert "PolicyReport(" not in text and "SyncReport(" not in text


def test_windows_1252_leftovers_are_stored_as_written(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lossy = {
        **CPAP,
        "ncd_id": "7",
        "text": CPAP["text"] + " The patient\ufffds physician\x92s order, see \ufffd20.4.",
    }
    ingest_policies(stores, _write(tmp_path / "ncd.jsonl", [lossy]), progress=False)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "wheelchair.txt").write_bytes("# Wheelchairs\n\nThe beneficiary\x92s home.".encode("latin-1"))
    report = ingest_policies(stores, folder, progress=False)
    assert report.ok, report.errors
    with session_scope(stores.engine) as s:
        jsonl, text_file = s.get(t.Policy, "Policy/7"), s.get(t.Policy, "Policy/wheelchair")
        chunks = s.exec(select(t.ChunkRow.text).where(t.ChunkRow.doc_id == "Policy/7")).all()
    assert jsonl is not None and "The patient’s physician’s order, see §20.4." in jsonl.text
    assert any("patient’s physician’s" in c for c in chunks)
    assert text_file is not None and "The beneficiary’s home." in text_file.text

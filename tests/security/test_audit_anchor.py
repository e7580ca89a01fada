"""Rewriting the audit trail as whoever holds the database (issue 28, A10): delete the last records
and rewind the head, or forge a record and recompute every later hash. Both pass the unkeyed chain
check; both fail ``audit verify --anchor`` against a signed checkpoint kept outside the database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carecite.audit import AuditLog
from carecite.audit.anchor import AnchorError, load_or_create_key, verify_against_anchor, write_anchor
from carecite.audit.log import record_hash
from carecite.cli import app
from carecite.records import make_engine

RECORDS = 8


@pytest.fixture
def trail(tmp_path: Path) -> tuple[Path, AuditLog]:
    data = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data / 'carecite.sqlite'}")
    log = AuditLog(engine)
    for n in range(RECORDS):
        log.append({"kind": "ask", "user_id": "cc-ben", "question": f"question {n}", "answer": "a"})
    return data, log


def _cli(data: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(data), "audit", *args])
    return result.exit_code, result.output


def _sql(data: Path) -> sqlite3.Connection:
    """The attacker's own connection: the append-only triggers are simply dropped first."""
    conn = sqlite3.connect(data / "carecite.sqlite")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def _truncate(data: Path, keep: int) -> None:
    conn = _sql(data)
    conn.execute("DELETE FROM auditrecord WHERE seq > ?", (keep,))
    head = conn.execute("SELECT hash FROM auditrecord WHERE seq = ?", (keep,)).fetchone()[0]
    conn.execute("UPDATE auditchainhead SET seq = ?, hash = ? WHERE id = 1", (keep, head))
    conn.commit()


def _rewrite(data: Path, seq: int) -> None:
    """Forge one record's question, then recompute its hash and every later hash and the head."""
    conn = _sql(data)
    conn.row_factory = sqlite3.Row
    conn.execute("UPDATE auditrecord SET question = 'nothing to see' WHERE seq = ?", (seq,))
    prev = conn.execute("SELECT hash FROM auditrecord WHERE seq = ?", (seq - 1,)).fetchone()
    prev_hash = prev[0] if prev else "0" * 64
    for row in conn.execute("SELECT * FROM auditrecord WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
        values = dict(row)
        values["prev_hash"] = prev_hash
        values["hash"] = record_hash(values)
        conn.execute(
            "UPDATE auditrecord SET prev_hash = ?, hash = ? WHERE seq = ?",
            (values["prev_hash"], values["hash"], values["seq"]),
        )
        prev_hash = values["hash"]
    conn.execute("UPDATE auditchainhead SET hash = ? WHERE id = 1", (prev_hash,))
    conn.commit()


def test_anchoring_then_honest_appends_verify(trail: tuple[Path, AuditLog]) -> None:
    data, log = trail
    assert _cli(data, "anchor")[0] == 0
    log.append({"kind": "ask", "user_id": "cc-ben", "question": "later", "answer": "a"})
    code, output = _cli(data, "verify", "--anchor")
    assert code == 0, output
    assert f"chain ok ({RECORDS + 1} records)" in output


@pytest.mark.parametrize("attack", ["truncate", "rewrite_before_anchor", "rewrite_the_anchored_record"])
def test_truncation_and_rewriting_pass_the_chain_but_not_the_anchor(
    trail: tuple[Path, AuditLog], attack: str
) -> None:
    data, _ = trail
    assert _cli(data, "anchor")[0] == 0
    if attack == "truncate":
        _truncate(data, keep=RECORDS - 3)
    else:
        _rewrite(data, seq=3 if attack == "rewrite_before_anchor" else RECORDS)
    assert _cli(data, "verify")[0] == 0, "the unkeyed chain cannot tell: this is the gap"
    code, output = _cli(data, "verify", "--anchor")
    assert code == 1
    assert ("truncated" if attack == "truncate" else "rewritten") in output
    assert "Traceback" not in output


def test_a_forged_anchor_is_refused(trail: tuple[Path, AuditLog], tmp_path: Path) -> None:
    """Rewriting the trail AND the anchors file needs the key, which is not in the database."""
    data, log = trail
    key = load_or_create_key(tmp_path / "anchor.key")
    anchors = tmp_path / "anchors.jsonl"
    write_anchor(log, key, anchors)
    _truncate(data, keep=2)
    forged = json.loads(anchors.read_text().splitlines()[-1])
    forged.update(seq=2, hash=log.verify().head_hash)  # the attacker re-points the anchor
    anchors.write_text(json.dumps(forged) + "\n")
    with pytest.raises(AnchorError, match="not signed"):
        verify_against_anchor(log, log._engine, key, anchors)


def test_a_broken_chain_is_never_anchored(trail: tuple[Path, AuditLog]) -> None:
    data, _ = trail
    conn = _sql(data)
    conn.execute("UPDATE auditrecord SET question = 'x' WHERE seq = 2")
    conn.commit()
    code, output = _cli(data, "anchor")
    assert code == 1 and "not anchoring" in output

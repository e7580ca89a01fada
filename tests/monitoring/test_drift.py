"""Embedding drift (monitoring/drift.py): projections only, a reference at ingest, real embeddings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlmodel import Session, select
from typer.testing import CliRunner

from carecite.answering.pipeline import AskRequest
from carecite.cli import app
from carecite.monitoring.drift import ChunkDriftSample, compare, drift_report, record_chunk_vectors
from carecite.records import make_engine
from carecite.records import tables as t
from carecite.settings import Settings

CLINICAL = [
    "Patient discharged home on furosemide 40 mg twice daily; follow up with cardiology in two weeks.",
    "Diabetic foot exam normal; HbA1c 8.4%; start metformin 500 mg daily.",
    "Task: schedule echocardiogram, overdue since November; owner care coordination team.",
    "Progress note: shortness of breath improved, weight stable, continue current diuretic dose.",
    "Home health referral placed for wound care after the hip replacement.",
    "Potassium 3.2 on the basic metabolic panel; replete and recheck in one week.",
]
UNRELATED = [
    "Preheat the oven to 200 degrees and roast the vegetables for forty minutes.",
    "The football match ended in a draw after extra time and penalties.",
    "Quarterly revenue grew by twelve percent thanks to cloud subscriptions.",
    "The hiking trail climbs steeply through pine forest to a glacier lake.",
    "Add two cups of flour, a pinch of salt and knead the dough for ten minutes.",
    "The orchestra rehearsed the symphony's second movement all afternoon.",
]
POLICY = [
    "CPAP therapy is covered for adults with obstructive sleep apnea diagnosed by polysomnography.",
    "Home oxygen is a covered benefit when arterial blood gas studies show hypoxemia at rest.",
    "Medicare does not cover the procedure when performed for cosmetic purposes.",
    "Coverage requires documentation of medical necessity by the treating physician.",
    "The national coverage determination applies to services furnished on or after the effective date.",
    "Claims must include the diagnosis codes listed in the indications and limitations of coverage.",
]
MIN = {"min_samples": 5, "shift_alert": 0.10, "alpha": 0.01}


def _age_samples(engine, *, days: float) -> None:  # type: ignore[no-untyped-def]
    """Move every stored drift sample ``days`` into the past (as if ingested then)."""
    with Session(engine) as session:
        for row in session.exec(select(t.DriftSample)).all():
            row.ts = (datetime.fromisoformat(row.ts) - timedelta(days=days)).isoformat(
                timespec="microseconds"
            )
            session.add(row)
        session.commit()


def test_same_distribution_does_not_alert_a_different_one_does() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1.0, (300, 16)), rng.normal(1.0, 1.0, (200, 16))
    same = compare("x", a, b, **MIN)
    assert same.enough and not same.alert and same.cosine_shift is not None and same.cosine_shift < 0.02
    moved = compare("x", a, rng.normal(1.0, 1.0, (200, 16)) + np.r_[np.full(8, 3.0), np.full(8, -1.0)], **MIN)
    assert moved.alert and moved.cosine_shift is not None and moved.cosine_shift > 0.10
    assert moved.ks_p_value is not None and moved.ks_p_value < 0.01


def test_too_few_samples_give_no_verdict() -> None:
    few = compare("queries", np.ones((3, 4)), np.ones((30, 4)), **MIN)
    assert not few.enough and not few.alert and "at least 5" in few.note


def test_real_embeddings_of_unrelated_text_drift_from_clinical_notes(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(settings.resolved_database_url)
    s = settings.model_copy(update={"drift_min_samples": 5})
    clinical = embedder.embed_documents(CLINICAL * 4)
    assert record_chunk_vectors(engine, embedder.fingerprint, clinical, s) == "reference:notes"
    _age_samples(engine, days=2)  # the reference was taken two days ago: a real window since
    assert (
        record_chunk_vectors(engine, embedder.fingerprint, embedder.embed_documents(UNRELATED * 4), s)
        == "ingest:notes"
    )
    rep = drift_report(
        engine, s, current_fingerprint=embedder.fingerprint, since=datetime.now(UTC) - timedelta(hours=1)
    )
    assert rep.notes.enough and rep.notes.alert
    assert rep.notes.cosine_shift is not None and rep.notes.cosine_shift >= s.drift_cosine_alert
    assert any("notes drifted" in a for a in rep.alerts)
    with Session(engine) as session:
        stored = session.exec(select(t.DriftSample)).all()
    assert all(len(json.loads(x.projections)[0]) == s.drift_projection_dims for x in stored)
    assert not any("furosemide" in x.projections for x in stored)


def test_an_ingest_fed_batch_by_batch_stores_the_same_sample_as_all_vectors_at_once(
    settings: Settings,
) -> None:
    # The ingest keeps only each batch's projection; the stored sample must not depend on batching.
    s = settings.model_copy(update={"drift_sample": 50})
    vectors = np.random.default_rng(3).standard_normal((130, 384)).astype(np.float32)
    stored = []
    for n, batches in enumerate(([vectors], [vectors[:1], vectors[1:64], vectors[64:]])):
        engine = make_engine(f"sqlite:///{settings.data_dir}/drift-{n}.sqlite")
        with Session(engine) as session:  # the same projection seed in both data dirs
            session.add(t.Meta(key="drift_projection_seed", value="12345"))
            session.commit()
        sample = ChunkDriftSample(engine, s)
        assert sample.record("m") == []  # nothing added, nothing written
        for batch in batches:
            sample.add(batch)
        assert len(sample) == 130 and sample.record("m") == ["reference:notes"]
        with Session(engine) as session:
            (row,) = session.exec(select(t.DriftSample)).all()
        stored.append((row.n, row.projections))
    assert stored[0] == stored[1] and stored[0][0] == 130
    assert len(json.loads(stored[0][1])) == 50


def test_a_changed_embedding_model_is_flagged(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(settings.resolved_database_url)
    record_chunk_vectors(engine, "old-model:384:abc", embedder.embed_documents(CLINICAL), settings)
    rep = drift_report(engine, settings, current_fingerprint=embedder.fingerprint, since=datetime.now(UTC))
    assert rep.fingerprint_changed and any("embedding model changed" in a for a in rep.alerts)


def test_below_gate_share_alerts_only_with_enough_questions(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    kw = {"current_fingerprint": "m", "since": datetime.now(UTC)}
    assert not drift_report(engine, settings, scored_questions=5, below_gate_share=0.9, **kw).alerts
    rep = drift_report(engine, settings, scored_questions=50, below_gate_share=0.6, **kw)
    assert any("below the gate" in a for a in rep.alerts) and rep.reference_ts is None


def test_ingest_takes_the_reference_and_asks_record_projections_without_text(
    tiny_world, tiny_pipeline, patient_id
) -> None:  # type: ignore[no-untyped-def]
    settings, stores = tiny_world
    with Session(stores.engine) as s:
        before = len(s.exec(select(t.DriftSample).where(t.DriftSample.kind == "query")).all())
        reference = s.exec(select(t.DriftSample).where(t.DriftSample.kind == "reference:notes")).one()
    assert reference.n > 0 and reference.fingerprint == stores.embedder.fingerprint
    question = "What follow-up tasks are still outstanding?"
    tiny_pipeline.ask(AskRequest(question=question, user_id="cc-ben", patient_id=patient_id))
    with Session(stores.engine) as s:
        queries = s.exec(select(t.DriftSample).where(t.DriftSample.kind == "query")).all()
    assert len(queries) == before + 1
    row = queries[-1]
    assert row.ts.endswith(":00:00.000000+00:00")  # hour bucket: no exact time to join on
    assert len(json.loads(row.projections)[0]) == settings.drift_projection_dims
    assert "follow" not in row.projections


def test_cli_drift_json_and_reset_reference(tiny_world, tiny_pipeline) -> None:  # type: ignore[no-untyped-def]
    settings, _ = tiny_world
    runner = CliRunner()
    env = {"CARECITE_DRIFT_MIN_SAMPLES": "3"}
    base = ["--data-dir", str(settings.data_dir), "drift"]
    result = runner.invoke(app, [*base, "--json"], env=env)
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert data["reference_fingerprint"] == data["current_fingerprint"] and data["notes"]["reference_n"] > 0
    reset = runner.invoke(app, [*base, "--reset-reference"], env=env)
    assert reset.exit_code in (0, 1) and "new reference snapshot" in reset.output
    assert runner.invoke(app, [*base, "--since", "soon"]).exit_code == 2


def test_a_data_dir_from_before_drift_says_how_to_take_a_reference(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    rep = drift_report(engine, settings, current_fingerprint="m", since=datetime.now(UTC))
    assert rep.reference_ts is None and "--reset-reference" in rep.notes.note and not rep.alerts


def test_policies_ingested_after_the_notes_raise_no_drift_alarm(tiny_world, shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The demo ingests the notes, then the CMS policies right after: policies are a corpus of their
    # own (their first ingest is their reference), never the notes' "recent" set.
    from carecite.ingest.policies import ingest_policies

    settings, stores = tiny_world
    lines = (shared_data / "cms_ncd" / "ncd_documents.jsonl").read_text(encoding="utf-8").splitlines()
    source = tmp_path / "ncd.jsonl"
    source.write_text("\n".join(lines[:12]) + "\n", encoding="utf-8")
    assert ingest_policies(stores, source, progress=False).sync is not None
    rep = drift_report(
        stores.engine,
        settings,
        current_fingerprint=stores.embedder.fingerprint,
        since=datetime.now(UTC) - timedelta(days=7),
    )
    assert not rep.alerts, rep.alerts
    assert rep.notes.reference_n > 0 and rep.policies.reference_n > 0
    assert rep.notes.recent_n == 0 and rep.policies.recent_n == 0


def test_notes_are_compared_with_notes_and_policies_with_policies(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(settings.resolved_database_url)
    s = settings.model_copy(update={"drift_min_samples": 5})
    fp = embedder.fingerprint
    notes, policies = embedder.embed_documents(CLINICAL * 4), embedder.embed_documents(POLICY * 4)
    assert record_chunk_vectors(engine, fp, notes, s) == "reference:notes"
    assert record_chunk_vectors(engine, fp, policies, s, corpus="policies") == "reference:policies"
    _age_samples(engine, days=2)
    # Later: more notes like the notes, and policies unlike the policies.
    assert record_chunk_vectors(engine, fp, embedder.embed_documents(CLINICAL[::-1] * 4), s) == "ingest:notes"
    unrelated = embedder.embed_documents(UNRELATED * 4)
    assert record_chunk_vectors(engine, fp, unrelated, s, corpus="policies") == "ingest:policies"
    rep = drift_report(engine, s, current_fingerprint=fp, since=datetime.now(UTC) - timedelta(hours=1))
    assert rep.notes.enough and not rep.notes.alert and rep.notes.recent_n == len(CLINICAL) * 4
    assert rep.policies.enough and rep.policies.alert
    assert [a.split(":")[0] for a in rep.alerts] == ["policies drifted"]


def test_ingests_soon_after_the_reference_complete_it_rather_than_count_as_a_window(
    settings: Settings, embedder
) -> None:  # type: ignore[no-untyped-def]
    # A world loaded in parts: the second part, an hour after the first, is no drift.
    engine = make_engine(settings.resolved_database_url)
    s = settings.model_copy(update={"drift_min_samples": 5})
    fp = embedder.fingerprint
    record_chunk_vectors(engine, fp, embedder.embed_documents(CLINICAL * 4), s)
    record_chunk_vectors(engine, fp, embedder.embed_documents(UNRELATED * 4), s)
    rep = drift_report(engine, s, current_fingerprint=fp, since=datetime.now(UTC) - timedelta(days=7))
    assert not rep.alerts and rep.notes.reference_n == 48 and rep.notes.recent_n == 0
    assert "no notes ingested in the window" in rep.notes.note
    # The same ingest a real window (more than drift_reference_window_hours) after the reference alerts.
    later = make_engine(f"sqlite:///{settings.data_dir}/later.sqlite")
    record_chunk_vectors(later, fp, embedder.embed_documents(CLINICAL * 4), s)
    _age_samples(later, days=2)
    record_chunk_vectors(later, fp, embedder.embed_documents(UNRELATED * 4), s)
    rep = drift_report(later, s, current_fingerprint=fp, since=datetime.now(UTC) - timedelta(hours=1))
    assert rep.notes.reference_n == 24 and rep.notes.recent_n == 24 and rep.notes.alert


def test_a_reference_from_before_corpora_gives_no_verdict_and_says_to_retake_it(
    settings: Settings, embedder
) -> None:  # type: ignore[no-untyped-def]
    # Old data dirs: one "reference" of the notes and an "ingest" of the policies right after.
    engine = make_engine(settings.resolved_database_url)
    s = settings.model_copy(update={"drift_min_samples": 5})
    with Session(engine) as session:
        for kind, texts in (("reference", CLINICAL * 4), ("ingest", POLICY * 4)):
            projected = np.asarray(embedder.embed_documents(texts))[:, : s.drift_projection_dims]
            session.add(
                t.DriftSample(
                    kind=kind,
                    ts=datetime.now(UTC).isoformat(),
                    fingerprint=embedder.fingerprint,
                    n=len(texts),
                    projections=json.dumps(projected.tolist()),
                )
            )
        session.commit()
    rep = drift_report(
        engine, s, current_fingerprint=embedder.fingerprint, since=datetime.now(UTC) - timedelta(days=7)
    )
    assert not rep.alerts
    assert "--reset-reference" in rep.notes.note and "--reset-reference" in rep.policies.note


def test_reset_reference_takes_one_reference_per_corpus(tiny_world) -> None:  # type: ignore[no-untyped-def]
    from carecite.monitoring.drift import take_reference

    settings, stores = tiny_world
    with Session(stores.engine) as s:
        kinds = {c.source_type for c in s.exec(select(t.ChunkRow)).all()}
    assert take_reference(stores, settings) > 0
    with Session(stores.engine) as s:
        latest = s.exec(select(t.DriftSample).order_by(t.DriftSample.id.desc())).all()  # type: ignore[union-attr]
    expected = {f"reference:{'policies' if k == 'policy' else 'notes'}" for k in kinds}
    assert {x.kind for x in latest[: len(expected)]} == expected

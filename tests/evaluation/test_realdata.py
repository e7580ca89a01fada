"""The real-data question sets: ground truth computed from the public data, never from our stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carecite.evaluation.realdata import (
    ABSENT_QUESTIONS,
    LAB_QUESTIONS,
    SECTION_QUESTIONS,
    bundle_files,
    load_patient,
    mtsamples_questions,
    mtsamples_reports,
    prepare_mtsamples,
    split_of,
    synthea_questions,
)
from carecite.ports import Embedder
from carecite.settings import Settings

pytestmark = pytest.mark.shared_data


def test_synthea_questions_cover_answerable_absent_and_bait_in_both_splits(shared_data: Path) -> None:
    questions = synthea_questions(shared_data)
    assert len(questions) >= 100
    assert {q.split for q in questions} == {"dev", "test"}
    assert {q.expect for q in questions} == {"answer", "decline"}
    categories = {q.category for q in questions}
    assert {"latest_lab", "latest_lab:absent", "cross_patient_bait", "active_medications"} <= categories
    assert len({q.id for q in questions}) == len(questions)
    # The split is by patient: no patient is in both.
    by_patient = {q.patient_id: q.split for q in questions}
    assert all(by_patient[q.patient_id] == q.split for q in questions)


def test_other_wordings_keep_each_questions_ground_truth_and_split(shared_data: Path) -> None:
    """synthea-wordings asks the synthea questions again in other words: same answer, same patient and
    split; the canonical set is unchanged (its ids and wordings are what earlier figures measured)."""
    from carecite.evaluation.realdata import WORDINGS

    canonical = synthea_questions(shared_data)
    assert canonical[0].id == "syn-001" and canonical[0].question == WORDINGS["latest_lab"][0].format(
        item=canonical[0].question.removeprefix("What was the most recent ").rstrip("?")
    )
    truth = {(q.patient_id, q.category, q.expected_refs): q.split for q in canonical}
    others = synthea_questions(shared_data, wordings=True)
    assert len(others) > len(canonical)
    assert all(truth[(q.patient_id, q.category, q.expected_refs)] == q.split for q in others)
    assert not {q.question for q in others} & {q.question for q in canonical}
    assert {q.category.split(":")[0] for q in others} == set(WORDINGS)


def test_shorthand_retypes_questions_and_keeps_their_ground_truth_and_split(shared_data: Path) -> None:
    """synthea-shorthand: the synthea questions as a clinician types them ("pt's", "meds"); each keeps
    its patient, category, answer and split, and only questions shorthand changes are asked."""
    from carecite.evaluation.realdata import synthea_shorthand_questions, typed_in_shorthand

    assert typed_in_shorthand("What medications is the patient taking?") == "What meds is the pt taking?"
    originals = {
        (typed_in_shorthand(q.question), q.patient_id, q.category): q
        for q in [*synthea_questions(shared_data), *synthea_questions(shared_data, wordings=True)]
    }
    typed = synthea_shorthand_questions(shared_data)
    assert len(typed) >= 100 and {q.split for q in typed} == {"dev", "test"}
    assert len({q.id for q in typed}) == len(typed)
    for q in typed:
        original = originals[(q.question, q.patient_id, q.category)]
        assert q.question != original.question
        assert (q.patient_id, q.category, q.expected_refs, q.split, q.expect) == (
            original.patient_id,
            original.category,
            original.expected_refs,
            original.split,
            original.expect,
        )


def test_named_items_are_the_records_own_displays_and_absent_ones_are_nowhere_in_the_bundle(
    shared_data: Path,
) -> None:
    """synthea-items: a present item's answers are the patient's resources with that display (or their
    visit's note); an absent item's words appear nowhere in the patient's bundle."""
    import re

    from carecite.evaluation.realdata import ITEM_QUESTIONS, synthea_item_questions

    patients = {p.patient_id: p for p in map(load_patient, bundle_files(shared_data))}
    questions = synthea_item_questions(shared_data)
    assert len(questions) >= 200 and {q.split for q in questions} == {"dev", "test"}
    assert {q.expect for q in questions} == {"answer", "decline"}
    for q in questions:
        p = patients[str(q.patient_id)]
        if q.expect == "decline":
            template = ITEM_QUESTIONS[q.category.removesuffix(":absent")]
            match = re.fullmatch(re.escape(template).replace(re.escape("{item}"), "(.+)"), q.question)
            assert match is not None and q.expected_refs == ()
            words = re.findall(r"[A-Za-z]{4,}", match.group(1))
            blob = json.dumps(p.resources).lower()
            assert words and not any(w.lower() in blob for w in words)
            continue
        own = {f"{r['resourceType']}/{r['id']}" for r in p.resources}
        assert q.expected_refs and set(q.expected_refs) <= own
        assert any(not ref.startswith("DocumentReference/") for ref in q.expected_refs)


def test_latest_lab_answers_are_the_newest_result_with_that_code_and_absent_ones_have_none(
    shared_data: Path,
) -> None:
    patients = {p.patient_id: p for p in map(load_patient, bundle_files(shared_data))}
    words = {f"What was the most recent {it.words}?": it for it in LAB_QUESTIONS}
    checked = 0
    for q in synthea_questions(shared_data):
        if not q.category.startswith("latest_lab"):
            continue
        item = words[q.question]
        p = patients[str(q.patient_id)]
        same = [
            r
            for r in p.of("Observation")
            if {c.get("code") for c in r["code"].get("coding", [])} & item.codes
        ]
        if q.expect == "decline":
            assert same == []
            continue
        (ref,) = q.expected_refs
        chosen = next(r for r in same if f"Observation/{r['id']}" == ref)
        assert all(r["effectiveDateTime"] <= chosen["effectiveDateTime"] for r in same)
        checked += 1
    assert checked >= 20


def test_active_lists_are_exactly_the_resources_with_an_active_status(shared_data: Path) -> None:
    first = bundle_files(shared_data)[0]
    bundle = json.loads(first.read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    q = next(
        q
        for q in synthea_questions(shared_data)
        if q.patient_id == patient_id and q.category.startswith("active_medications")
    )
    active = {f"MedicationRequest/{r['id']}" for r in resources if r["resourceType"] == "MedicationRequest" and r["status"] == "active"}  # fmt: skip
    assert set(q.expected_refs) == active


def test_split_is_stable() -> None:
    assert split_of("abc") == split_of("abc")
    assert {split_of(str(i)) for i in range(20)} == {"dev", "test"}


def test_mtsamples_sections_are_the_reports_own_labelled_ranges_and_absent_ones_lack_the_word(
    shared_data: Path,
) -> None:
    reports = {r.patient_id: r for r in mtsamples_reports(shared_data)}
    questions = mtsamples_questions(shared_data)
    assert len(questions) >= 100 and {q.split for q in questions} == {"dev", "test"}
    for q in questions:
        report = reports[str(q.patient_id)]
        if q.expect == "decline":
            word = dict(ABSENT_QUESTIONS)[q.question]
            assert word not in report.text.lower()
            continue
        ((ref, start, end),) = q.expected_spans
        assert ref == report.ref and q.expected_refs == (report.ref,)
        header = q.category.split(":", 1)[1]
        assert report.text[start:end].lower().startswith(header)
        assert q.question == SECTION_QUESTIONS[header.upper()]


def test_mtsamples_wordings_ask_every_section_of_a_report_with_its_own_ranges(shared_data: Path) -> None:
    """mtsamples-wordings: each asked section of every report, in its other wordings; the expected
    spans are the report's own sections (every header the canonical question would ask)."""
    from carecite.evaluation.realdata import SECTION_WORDINGS

    reports = {r.patient_id: r for r in mtsamples_reports(shared_data)}
    questions = mtsamples_questions(shared_data, wordings=True)
    canonical = mtsamples_questions(shared_data)
    assert len(questions) > 2 * len(canonical) and {q.split for q in questions} == {"dev", "test"}
    assert not {q.question for q in questions} & set(SECTION_QUESTIONS.values())
    assert all(q.expect == "answer" and q.id.startswith("mtsw-") for q in questions)
    for q in questions:
        report = reports[str(q.patient_id)]
        assert q.split == split_of(report.patient_id)
        sections = report.sections()
        for ref, start, end in q.expected_spans:
            name = next(n for n, rng in sections.items() if rng == (start, end))
            assert ref == report.ref and q.question in SECTION_WORDINGS[name]
    # Every asked section group of every report, each in all three of its wordings.
    asked: dict[tuple[str, str], set[str]] = {}
    for r in reports.values():
        for name in r.sections():
            if name in SECTION_QUESTIONS:
                asked.setdefault((r.patient_id, SECTION_QUESTIONS[name]), set()).update(
                    SECTION_WORDINGS[name]
                )
    got: dict[tuple[str, str], set[str]] = {}
    canonical_of = {w: SECTION_QUESTIONS[n] for n, ws in SECTION_WORDINGS.items() for w in ws}
    for q in questions:
        got.setdefault((str(q.patient_id), canonical_of[q.question]), set()).add(q.question)
    assert got == asked


def test_a_small_mtsamples_run_cites_note_offsets_that_slice_the_cited_text(
    shared_data: Path, settings: Settings, embedder: Embedder
) -> None:
    from carecite.evaluation.gold import run_gold, score
    from carecite.stores import Stores
    from carecite.wiring import build_pipeline

    stores = Stores(settings, embedder=embedder)
    prepare_mtsamples(stores, shared_data, progress=False, n=6)
    prepare_mtsamples(stores, shared_data, progress=False, n=6)  # a re-run converges: nothing new
    questions = mtsamples_questions(shared_data, 6)
    pipeline = build_pipeline(settings, stores=stores)
    results = run_gold(pipeline, questions, progress=False)
    reports = {r.ref: r for r in mtsamples_reports(shared_data, 6)}
    spans = [sp for r in results for sp in r.cited_spans]
    assert spans, "no question was answered with a note citation"
    for ref, a, b in spans:
        assert 0 <= a < b <= len(reports[ref].text)
    m = score(results)
    # Each question is answered from the section it asks for, or declined when the report lacks it
    # (measured 1.0 on these 6 reports; the full set's figures are in docs/evaluation.md).
    assert m["answer.wrong_fact"] == 0 and m["absent.wrongly_answered"] == 0
    assert m["answer.accuracy"] >= 0.8


def test_cms_questions_point_at_each_ncds_own_covered_indications_and_absent_ones_are_not_ingested(
    shared_data: Path,
) -> None:
    from carecite.evaluation.cms import _COVERED, asked_and_absent, cms_questions, load_ncds

    questions = cms_questions(shared_data)
    texts = {n.ref: n.text for n in load_ncds(shared_data)}
    asked, absent = asked_and_absent(shared_data)
    assert len(questions) >= 100 and {q.split for q in questions} == {"dev", "test"}
    assert {q.category for q in questions} == {
        "covered",
        "non_covered",
        "covered:absent",
        "cross_patient_bait",
    }
    ncds = {n.ref: n for n in load_ncds(shared_data)}
    for q in questions:
        if q.expect == "answer":
            ((ref, start, end),) = q.expected_spans
            heading = texts[ref][start:end].split("\n", 1)[0].lower()
            assert "nationally" in heading and "covered" in heading
            # A covered question points at the non-covered subsection only when the covered one says
            # nothing ("N/A"): the coverage position is then there.
            assert ("non" in heading) == (
                q.category == "non_covered" or ncds[ref].subsection(_COVERED) is None
            )
            assert len(texts[ref][start:end].split("\n", 1)[-1].strip()) > 20, "a span states something"
    absent_refs = {n.ref for n in absent}
    assert absent_refs and not absent_refs & {n.ref for n in asked}
    assert all(
        q.expect == "decline" for q in questions if q.category in ("covered:absent", "cross_patient_bait")
    )


def test_an_ncd_subsection_holds_its_roman_parts_and_one_that_says_n_a_is_no_answer() -> None:
    from carecite.evaluation.cms import _COVERED, _NON_COVERED, Ncd

    text = (
        "## Indications and Limitations of Coverage\nB. Nationally Covered Indications\n\nN/A\n\n"
        "C. Nationally Non-Covered Indications\n\nI. Allogeneic HSCT\n\nNot covered for myeloma.\n\n"
        "II. Autologous SCT\n\nNot covered for amyloidosis.\n\nD. Other\n\nN/A\n"
    )
    ncd = Ncd("1", "Stem cells", text, {})
    assert ncd.subsection(_COVERED) is None  # "N/A" states nothing
    start, end = ncd.subsection(_NON_COVERED) or (0, 0)
    assert text[start:end].startswith("C. Nationally") and "amyloidosis" in text[start:end]
    assert "D. Other" not in text[start:end]
    assert ncd.coverage_position() == (start, end)  # "When does Medicare cover it?" is answered there

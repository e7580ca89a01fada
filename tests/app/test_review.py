"""The Review page (app/pages/2_Review.py): audit table, a record's detail, re-opening cited sources."""

from __future__ import annotations

import html
from pathlib import Path

import ui_world
from streamlit.testing.v1 import AppTest

from carecite.audit import AuditLog
from carecite.domain import Answer
from carecite.records import make_engine

REVIEW = str(ui_world.REPO / "app" / "pages" / "2_Review.py")


def page(user: str) -> AppTest:
    at = AppTest.from_file(REVIEW, default_timeout=120)
    at.session_state["user_id"] = user
    return at.run()


def _choose(at: AppTest, request_id: str, button_key: str) -> None:
    """Pick a record in the Record list; its detail must then offer the source's Open button."""
    at.selectbox(key="rv_record").set_value(request_id).run()
    assert any(getattr(b, "key", None) == button_key for b in at.button), f"record {request_id} not shown"


def test_clinicians_are_turned_away(app_env: Path, cast: ui_world.Cast) -> None:
    at = page(cast.coordinator)
    assert any("for compliance reviewers" in e.value for e in at.error)
    assert not at.dataframe


def test_reviewer_sees_chain_status_and_the_filterable_table(
    app_env: Path, cast: ui_world.Cast, audited_answer: Answer
) -> None:
    log = AuditLog(make_engine(f"sqlite:///{app_env / 'carecite.sqlite'}"))
    declined_id = log.append(
        {"kind": "decline", "user_id": cast.nurse, "decline_reason": "no_evidence", "question": "q"}
    )
    at = page(cast.reviewer)
    assert any(s.value.startswith("Audit chain verified") for s in at.success)
    table = at.dataframe[0].value
    assert audited_answer.request_id in set(table["request id"])
    at.selectbox(key="rv_user").set_value(cast.coordinator).run()
    assert set(at.dataframe[0].value["user"]) == {cast.coordinator}
    at.selectbox(key="rv_user").set_value(None).run()
    at.checkbox(key="rv_declined").check().run()
    declined = at.dataframe[0].value
    assert declined_id in set(declined["request id"]) and all(declined["declined"])
    assert audited_answer.request_id not in set(declined["request id"])


def test_reviewer_opens_a_cited_source_and_the_opening_is_audited(
    app_env: Path, cast: ui_world.Cast, audited_answer: Answer
) -> None:
    at = page(cast.reviewer)
    cited = audited_answer.citations[0]
    _choose(at, audited_answer.request_id, f"open:{audited_answer.request_id}|{cited.source_id}")
    assert any('class="cc-answer"' in m.value and "cc-chip" in m.value for m in at.markdown)
    at.button(key=f"open:{audited_answer.request_id}|{cited.source_id}").click().run()
    assert not at.exception, at.exception
    box = next(m.value for m in at.markdown if 'class="cc-source"' in m.value)
    # The box escapes Markdown characters as entities ("#" of a Synthea section header, ":")
    assert cited.text[:20].split("\n")[0][:10] in html.unescape(box)
    views = AuditLog(make_engine(f"sqlite:///{app_env / 'carecite.sqlite'}")).records(
        kind="source_view", user_id=cast.reviewer, limit=1
    )
    assert views and views[0].details["reviewed_request_id"] == audited_answer.request_id


def test_a_record_asked_alike_in_the_same_second_opens_itself(app_env: Path, cast: ui_world.Cast) -> None:
    """Two requests alike in the same second: each pick shows its own record, not its twin
    (Streamlit keeps a pick as its label)."""
    log = AuditLog(make_engine(f"sqlite:///{app_env / 'carecite.sqlite'}"))
    twins = [
        log.append(
            {"kind": "decline", "user_id": cast.nurse, "decline_reason": "no_evidence", "question": "twin?"}
        )
        for _ in range(2)
    ]
    at = page(cast.reviewer)
    for twin in twins:
        at.selectbox(key="rv_record").set_value(twin).run()
        assert any(f"request `{twin}`" in m.value for m in at.markdown), twin


def test_review_shows_the_s_numbers_the_answer_used(
    app_env: Path, cast: ui_world.Cast, audited_answer: Answer
) -> None:
    """An answer whose chips read S3, S1 (the prompt's numbering) is reviewed under S3, S1, not S1, S2."""
    log = AuditLog(make_engine(f"sqlite:///{app_env / 'carecite.sqlite'}"))
    cited = [c.source_id for c in audited_answer.citations][:2]
    markers = [f"S{n}" for n in (7, 3)][: len(cited)]
    rid = log.append(
        {
            "kind": "ask",
            "user_id": cast.coordinator,
            "question": "q",
            "answer": " ".join(f"Sentence [{m}]." for m in markers),
            "cited_ids": cited,
            "details": {
                "citations": [
                    {"marker": m, "source_id": s, "spans": []} for m, s in zip(markers, cited, strict=True)
                ]
            },
        }
    )
    at = page(cast.reviewer)
    _choose(at, rid, f"open:{rid}|{cited[0]}")
    cards = [m.value for m in at.markdown if m.value.startswith("**[S")]
    assert [c.split("]")[0].removeprefix("**[") for c in cards] == markers
    assert at.button(key=f"open:{rid}|{cited[0]}").label == f"Open source {markers[0]}"

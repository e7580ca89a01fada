"""The one term toolkit: every stage reads words the same way (carecite.text.terms)."""

from __future__ import annotations

from carecite.text.terms import STOP_WORDS, content_terms, content_words, singular, stem, words


def test_codes_decimals_times_and_iso_dates_stay_whole_and_hyphens_split() -> None:
    assert words("E11.9 at 10:30 on 2026-09-19, follow-up PT/INR 98.6") == [
        "e11.9", "at", "10:30", "on", "2026-09-19", "follow", "up", "pt/inr", "98.6",
    ]  # fmt: skip


def test_content_words_are_singular_and_free_of_stop_words_in_order() -> None:
    assert content_words("The Cells and therapies for E11.9") == ["cell", "therapy", "e11.9"]
    assert content_words("Please tell me what is currently documented in the record") == []


def test_plural_and_suffix_strippers_leave_short_and_latin_words_whole() -> None:
    assert [singular(w) for w in ("cells", "therapies", "glass", "virus", "diagnosis", "bus")] == [
        "cell", "therapy", "glass", "virus", "diagnosis", "bus",
    ]  # fmt: skip
    assert stem("scheduled") == stem("schedule") == "schedul"


def test_content_terms_keep_negations_and_numbers_as_written_or_spelled() -> None:
    assert "no" in STOP_WORDS and "not" in content_terms("no chest pain")  # a negation is content
    assert "not" in content_terms("denies chest pain")
    assert {"2", "mg"} <= content_terms("twice daily, 2 mg")
    assert content_terms("The follow-up was scheduled") == content_terms("follow up schedule")


def test_a_claim_keeps_words_of_time_order_and_direction() -> None:
    """Verification must tell "before" from "after" and "above" from "below"; a question's "currently"
    is only asking, but a claim's "currently" states something."""
    assert content_terms("Metformin was stopped before surgery") != content_terms(
        "Metformin was stopped after surgery"
    )
    assert content_terms("A1c above 7") != content_terms("A1c below 7")


def test_pt_is_the_patient_in_a_claim_and_may_name_a_service_elsewhere() -> None:
    assert "pt" not in content_terms("Pt tolerated the procedure well")
    assert "pt" not in STOP_WORDS  # "PT" (physical therapy) names a service in a question


def test_a_possessive_is_its_word_so_the_patients_name_and_the_patient_stay_function_words() -> None:
    from carecite.text.terms import content_terms

    assert content_terms("the patient's discharge recommendations") == content_terms(
        "the discharge recommendations"
    )
    assert "farah" in content_terms("Dr. Farah's note")

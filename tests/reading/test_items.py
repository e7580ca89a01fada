"""The items a question names: a vital sign named whole is one item, by any of its written names."""

from __future__ import annotations

from carecite.reading.items import naming_count, naming_groups, record_terms


def test_a_vital_sign_named_whole_is_one_item_not_its_words() -> None:
    groups = naming_groups("last heart rate?")
    assert len(groups) == 1
    # The heart-failure medicine names "heart", not the heart rate; the LOINC display and a note's
    # "HR 84" name it.
    assert naming_count(groups, groups, "Furosemide 40 MG Oral Tablet for Congestive heart failure") == 0
    assert naming_count(groups, groups, "Heart rate") == 1
    assert naming_count(groups, groups, "BP 137/81, HR 84") == 1
    assert "heart" not in record_terms("last heart rate?", asked=True)


def test_a_vital_signs_one_word_name_still_names_the_panel_display() -> None:
    groups = naming_groups("what is her weight")
    assert naming_count(groups, groups, "Body Weight") == 1
    bp = naming_groups("what's his blood pressure")
    assert naming_count(bp, bp, "Systolic blood pressure") == 1
    assert naming_count(bp, bp, "BP 137/81") == 1


def test_a_rows_vital_sign_keeps_its_words_for_a_question_naming_one_of_them() -> None:
    assert "height" in record_terms("Body Height: 170 cm")
    assert "heart" not in record_terms("last heart rate?", asked=True)


def test_a_combination_brand_is_named_by_every_generic_part_as_the_display_lists_them() -> None:
    groups = naming_groups("suboxone dose")
    display = "Buprenorphine 8 MG / Naloxone 2 MG Sublingual Film"
    assert naming_count(groups, groups, display) >= 1
    advair = naming_groups("advair dose")
    assert naming_count(advair, advair, "Fluticasone 250 MCG / Salmeterol 50 MCG Inhalation Powder") >= 1

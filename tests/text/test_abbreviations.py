"""The published abbreviation list: each abbreviation read by the one sense the vocabulary in use holds."""

from __future__ import annotations

from carecite.text.abbreviations import Abbreviations, published


def test_the_list_is_the_published_one_with_several_senses_per_abbreviation() -> None:
    assert len(published()) > 2500
    assert {"heart rate", "hazard ratio"} <= set(published()["HR"])


def test_the_sense_the_store_displays_is_chosen() -> None:
    read = Abbreviations(["Heart rate", "Respiratory rate", "Potassium [Moles/volume] in Serum or Plasma"])
    assert read.write_out("HR and RR today").text == "heart rate and respiratory rate today"
    assert read.write_out("last K?").expansions == (("K", "potassium"),)


def test_two_senses_in_use_leave_the_abbreviation_as_typed() -> None:
    read = Abbreviations(["Heart rate", "Hazard ratio"])
    assert read.write_out("HR trend").text == "HR trend"


def test_no_sense_in_use_leaves_it_as_typed() -> None:
    # "GP" is listed only as gemcitabine plus paclitaxel: no word of that is in use here.
    assert Abbreviations(["Heart rate"]).write_out("who is her GP").text == "who is her GP"


def test_senses_that_agree_give_their_common_core_when_its_words_are_in_use() -> None:
    # EBL: "estimated blood loss" and "estimated surgical blood loss"; no display says either whole.
    read = Abbreviations(["Estimated glomerular filtration rate", "Blood loss"])
    assert read.write_out("EBL?").text == "estimated blood loss?"


def test_an_english_word_typed_in_lower_case_is_never_an_abbreviation() -> None:
    read = Abbreviations(["Blood urea nitrogen", "Oxygen saturation", "Hemoglobin"])
    assert read.write_out("what's her sat").text == "what's her sat"
    assert read.write_out("bun and hgb").text == "bun and hemoglobin"


def test_words_other_readers_read_and_the_patients_name_are_left_alone() -> None:
    read = Abbreviations(["Heart rate", "Hemoglobin"], known=lambda w: w == "hr")
    assert read.write_out("HR").text == "HR"
    assert read.write_out("Hgb for Hgb", keep={"hgb"}).text == "Hgb for Hgb"


def test_a_letter_after_a_word_the_store_names_things_with_is_part_of_a_name() -> None:
    read = Abbreviations(["Potassium", "Vitamin D"], name_words=frozenset({"vitamin"}))
    assert read.write_out("vitamin K level").text == "vitamin K level"
    assert read.write_out("the K today").text == "the potassium today"


def test_an_abbreviation_the_question_defines_keeps_the_askers_sense() -> None:
    read = Abbreviations(["Prior to admission", "Chronic low back pain"])
    assert read.write_out("Does it cover Acupuncture for Chronic Lower Back Pain (cLBP)?").expansions == ()
    assert read.write_out("PTA (percutaneous transluminal angioplasty)").expansions == ()


def test_an_english_word_opening_the_question_is_not_its_upper_case_abbreviation() -> None:
    read = Abbreviations(["Allergies", "Potassium"])
    assert read.write_out("All meds?").text == "All meds?"  # "ALL" is listed as allergies


def test_a_question_typed_in_capitals_keeps_its_english_words() -> None:
    read = Abbreviations(["Allergies", "Potassium"])
    assert read.write_out("ALL MEDS AND LAST K").text == "ALL MEDS AND LAST potassium"


def test_a_sense_half_in_english_words_is_read_only_as_the_list_writes_it() -> None:
    read = Abbreviations(["Drug allergy", "Allergies"])
    assert read.write_out("NKDA?").text == "no known drug allergies?"  # "known" is English, not clinical
    assert read.write_out("nkda").text == "nkda"  # typed in lower case it stays

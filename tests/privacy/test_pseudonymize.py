"""Pseudonymisation before a remote LLM, and reidentification of its reply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from carecite.ports import ChatMessage, ChatResult
from carecite.privacy.identity import PatientIdentity
from carecite.privacy.pseudonymize import (
    Pseudonymizer,
    PseudonymizingChatModel,
    needs_pseudonymization,
    parse_date,
)
from carecite.privacy.redactor import PresidioRedactor
from fakes import FakeRedactor

ALVIN = PatientIdentity(
    names=("Alvin56 Jerde200", "Jerde200", "Alvin56"),
    identifiers=("10000417",),
    birth_date=date(1963, 9, 27),
)


def test_same_original_gets_the_same_surrogate_across_calls() -> None:
    p = Pseudonymizer(FakeRedactor(names=["Sarah Kim", "Tom Reed"]))
    first = p.pseudonymize("Sarah Kim called Tom Reed.")
    second = p.pseudonymize("Tom Reed then called Sarah Kim back.")
    assert first == "[PERSON_1] called [PERSON_2]."
    assert second == "[PERSON_2] then called [PERSON_1] back."


def test_known_identity_is_replaced_even_when_detection_misses_it() -> None:
    p = Pseudonymizer(FakeRedactor(min_digits=99), ALVIN)  # detects nothing at all
    text = "ALVIN56 was seen; Jerde200, MRN 10000417, born 09/27/1963 (1963-09-27, September 27, 1963)."
    out = p.pseudonymize(text)
    for secret in ("ALVIN56", "Jerde200", "10000417", "09/27/1963", "1963-09-27", "September 27"):
        assert secret not in out
    assert out.count("[PATIENT]") == 2 and out.count("[PATIENT_DOB]") == 3
    assert "[MRN_1]" in out


def test_a_family_name_that_is_a_word_only_matches_as_a_name() -> None:
    p = Pseudonymizer(FakeRedactor(), PatientIdentity(names=("Grace Will", "Grace", "Will")))
    assert p.pseudonymize("Grace Will will call; Will agreed.") == "[PATIENT] will call; [PATIENT] agreed."


def test_dates_are_keyed_by_calendar_day() -> None:
    p = Pseudonymizer(FakeRedactor(min_digits=4))
    # FakeRedactor types digit runs as ID; the day-keying applies to DATE spans from the real redactor
    assert (
        parse_date("11/20/1981")
        == parse_date("1981-11-20")
        == parse_date("November 20, 1981")
        == date(1981, 11, 20)
    )
    assert parse_date("Nov. 20th, 1981") == date(1981, 11, 20)
    assert parse_date("120/80") is None
    assert p.pseudonymize("no phi here") == "no phi here"


def test_reidentify_survives_reordering_repetition_and_lost_brackets() -> None:
    p = Pseudonymizer(FakeRedactor(names=["Sarah Kim", "Tom Reed"]), ALVIN)
    p.pseudonymize("Alvin56 Jerde200 saw Sarah Kim, then Tom Reed.")
    reply = "Per [PERSON_2] and PERSON_1, [PATIENT] should see [person_1] again; [PERSON_9] is unknown [S1]."
    assert p.reidentify(reply) == (
        "Per Tom Reed and Sarah Kim, Alvin56 Jerde200 should see Sarah Kim again; [PERSON_9] is unknown [S1]."
    )


def test_pseudonymising_twice_is_a_no_op() -> None:
    p = Pseudonymizer(FakeRedactor(names=["Sarah Kim"]))
    once = p.pseudonymize("Sarah Kim, 4471903")
    assert p.pseudonymize(once) == once
    assert p.mapping == {"[PERSON_1]": "Sarah Kim", "[ID_1]": "4471903"}


class RecordingLLM:
    """A remote model that records what it receives and answers with a surrogate it was given."""

    name = "recording"
    remote = True

    def __init__(self) -> None:
        self.received: list[ChatMessage] = []

    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None) -> ChatResult:
        self.received.extend(messages)
        prompt = messages[-1].content
        assert "[PATIENT]" in prompt  # it can refer to the patient only by the surrogate
        return ChatResult(
            text="[PATIENT] is due for a cardiology follow-up [S1]. PATIENT was born [PATIENT_DOB] [S2].",
            model="x",
        )


def test_remote_llm_never_sees_the_patient_and_the_answer_shows_the_real_name(
    presidio_redactor: PresidioRedactor,
) -> None:
    llm = RecordingLLM()
    assert needs_pseudonymization(llm, phi_allowed=False)
    assert not needs_pseudonymization(llm, phi_allowed=True)
    model = PseudonymizingChatModel(llm, Pseudonymizer(presidio_redactor, ALVIN))
    messages = [
        ChatMessage(role="system", content="Answer only from the numbered sources; cite them as [S1]."),
        ChatMessage(
            role="user",
            content=(
                "[S1] Discharge summary 2023-03-14: Mr. Jerde200 (MRN 10000417, DOB 09/27/1963) to follow up "
                "with Dr. Sarah Kim, cardiology, call 617-555-0134.\n"
                "[S2] Patient: Alvin56 Jerde200, born September 27, 1963.\n"
                "Question: What follow-up is outstanding for Alvin56?"
            ),
        ),
    ]
    result = model.complete(messages)
    sent = "\n".join(m.content for m in llm.received)
    for secret in ("Alvin56", "Jerde200", "10000417", "09/27/1963", "September 27, 1963", "1963-09-27",
                   "Sarah Kim", "617-555-0134", "2023-03-14"):  # fmt: skip
        assert secret not in sent, secret
    assert "[S1]" in sent and "[S2]" in sent  # citation markers pass through untouched
    assert result.text == (
        "Alvin56 Jerde200 is due for a cardiology follow-up [S1]. Alvin56 Jerde200 was born 1963-09-27 [S2]."
    )
    assert model.name == "recording" and model.remote


def test_a_date_maps_back_exactly_as_its_source_wrote_it(presidio_redactor: PresidioRedactor) -> None:
    p = Pseudonymizer(presidio_redactor)
    out = p.pseudonymize("Discharged on 8/3/2026. Seen again 2026-08-03 for a recheck.")
    assert "8/3/2026" not in out and "2026-08-03" not in out
    tokens = re.findall(r"\[DATE_\d+\]", out)
    assert len(set(tokens)) == 2  # one token per written form: each maps back to its own words
    assert p.reidentify(out) == "Discharged on 8/3/2026. Seen again 2026-08-03 for a recheck."

"""The evidence gate: decline before generation when there is nothing, or nothing good enough.

Declining here is cheaper and more honest than asking a model to write from weak sources and
hoping verification catches it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from carecite.answering.coverage import AskedService, PolicyView, on_service
from carecite.answering.text import segment
from carecite.domain import Candidate
from carecite.reading.items import Group, names_item
from carecite.retrieval.section_match import holds_section
from carecite.text.sections import SectionKind
from carecite.text.terms import STOP_WORDS, plain_words

GateReason = Literal["no_evidence", "low_confidence"]


@dataclass(frozen=True)
class GateDecision:
    ok: bool
    reason: GateReason | None = None
    detail: str | None = None
    best_score: float = 0.0
    counted: int = 0  # how many candidates counted as evidence


def gate(
    candidates: Sequence[Candidate],
    *,
    min_score: float,
    patient_required: bool = False,
    asked: SectionKind | None = None,
) -> GateDecision:
    """Is there enough evidence to answer?

    ``patient_required``: the question is about the patient (not coverage), so policy text alone is
    no evidence — only sources that belong to the patient count. Scores are the re-ranker's,
    calibrated to [0, 1].
    """
    evidence = [
        c
        for c in candidates
        if not patient_required or (c.source_type != "policy" and c.patient_key is not None)
    ]
    if not evidence:
        what = "this patient's record or notes" if patient_required else "the sources you may see"
        return GateDecision(False, "no_evidence", f"Nothing relevant was found in {what}.")
    best = max(c.score for c in evidence)
    if best < min_score:
        return GateDecision(
            False,
            "low_confidence",
            f"The best source scored {best:.2f}, below the {min_score:.2f} needed to answer.",
            best_score=best,
            counted=len(evidence),
        )
    if asked is not None and asked.prose is not None and not _speaks_of(evidence, asked):
        # "What medications was the patient discharged on?" over notes with no discharge section and
        # no word of a discharge: any sentence quoted would be about something else.
        return GateDecision(
            False,
            "no_evidence",
            f"No {asked.name} section or statement was found in the sources for this patient.",
            best_score=best,
            counted=len(evidence),
        )
    return GateDecision(True, best_score=best, counted=len(evidence))


# A passage the question quotes: 'The discharge summary said: "Cardiology follow-up within 14 days".'
_QUOTED = re.compile(r"[\"“]([^\"“”]{12,})[\"”]")
QUOTE_SHARE = 0.8  # of a quote's words one note chunk must hold (placeholders and line breaks differ)


def _plain_words(text: str) -> set[str]:
    """Words as written, hyphens split ("Follow-up" is "follow up"): a quote is compared as typed
    (``tokens`` would write "Hep B" as "hepb")."""
    return set(plain_words(text))


def quoted_gate(question: str, candidates: Sequence[Candidate]) -> GateDecision:
    """A question that quotes the chart is about what it quotes. When no note or record found for
    this patient holds the quoted words, the quote comes from somewhere else (another patient's
    chart), and whatever this record holds ("Has that happened?" → the patient's open tasks) would
    answer another question.

    ``question``: as typed (shorthand not written out, names not replaced: the chart has them so).
    ``candidates``: everything retrieval found under the request's filter, before re-ranking (a
    source holding the quote is found by its words). Not for coverage questions (a quoted service
    name is no chart text).
    """
    held = [_plain_words(c.text) for c in candidates if c.source_type != "policy"]
    for m in _QUOTED.finditer(question):
        words = {w for w in _plain_words(m.group(1)) if w not in STOP_WORDS and len(w) > 2}
        if len(words) < 3:
            continue
        if not any(len(words & source) >= QUOTE_SHARE * len(words) for source in held):
            return GateDecision(
                False,
                "no_evidence",
                "The passage the question quotes is in none of the notes or records found for this patient.",
                counted=len(candidates),
            )
    return GateDecision(True, counted=len(candidates))


def _speaks_of(evidence: Sequence[Candidate], asked: SectionKind) -> bool:
    prose = asked.prose
    return any(holds_section(c, asked) or (prose is not None and prose.search(c.text)) for c in evidence)


def missing_item_gate(missing: tuple[str, tuple[Group, ...]], evidence: Sequence[Candidate]) -> GateDecision:
    """Decline a question about an item the record lacks, unless a note names it.

    Asked for the most recent hemoglobin A1c of a patient who has none, the nearest sources are a
    plain hemoglobin or a glucose: showing one of them would be a wrong fact. A note sentence that
    names the item (every word of it, in that one sentence: "hepatitis" in the problem list and
    "vaccine" in the immunizations do not make a hepatitis B vaccine) may still answer.
    """
    words, groups = missing
    if any(
        c.source_type == "note_chunk" and any(names_item(groups, seg.text) for seg in segment(c.text))
        for c in evidence
    ):
        return GateDecision(True, counted=len(evidence))
    return GateDecision(
        False, "no_evidence", f"No {words} is on record for this patient.", counted=len(evidence)
    )


def named_service_gate(
    question: str, policies: Mapping[str, PolicyView], evidence: Sequence[Candidate]
) -> GateDecision:
    """A coverage answer must come from a policy about the service asked: a neighbouring policy
    ("intensive cardiac rehabilitation" for "cardiac rehabilitation for heart failure", asked when only
    the first is held) would state another service's criteria as this one's."""
    asked = AskedService.of(question)
    return service_gate(asked, on_service(asked, policies, evidence), counted=len(evidence))


def service_gate(
    asked: AskedService, on_service_evidence: Sequence[Candidate], *, counted: int
) -> GateDecision:
    """``named_service_gate`` over evidence ``on_service`` already filtered (the pipeline filters once
    and keeps the result)."""
    if not asked.words or any(c.source_type == "policy" for c in on_service_evidence):
        return GateDecision(True, counted=counted)
    # The question's words are not echoed back: an injected "reveal the restricted notes" would be.
    return GateDecision(
        False,
        "no_evidence",
        "None of the coverage policies found is about the service asked; carecite holds no policy that names it.",
        counted=counted,
    )

"""Section kinds: what a note's headers mean, and which section a question asks about.

Clinical documents name their sections with a small, stable set of headers (HL7 C-CDA section
titles, LOINC document-section names, and the headers transcription services use: "ALLERGIES:",
"DISCHARGE MEDICATIONS:", "IMPRESSION:", "Follow-Up:"). A curated table maps header wordings to
a kind, and question wordings to the kinds that answer them. It is written from those standards'
titles, not from our synthetic generator; every entry is a header a reader would recognise.

One place for this rule: chunking records a chunk's section titles, the offline answerer reads the
answering section's items, and the pipeline declines when no source has the section asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class SectionKind:
    name: str  # the kind, as shown to people: "allergies", "discharge medications"
    header: re.Pattern[str]  # a normalised header title that opens a section of this kind
    cues: re.Pattern[str]  # a question asking for this section
    # What must appear in a source when no section of this kind exists, for another sentence to
    # answer instead ("discharged on" in prose). None: any relevant sentence may answer.
    prose: re.Pattern[str] | None = None
    # A sentence matching ``prose`` IS the answer's evidence (it names the insurer), not merely on
    # topic ("discharge" is on topic for discharge medications, but names none).
    prose_answers: bool = False
    # Holding the section is evidence enough to pass the gate. Not for coverage: every policy has a
    # covered-indications section, so holding one says nothing about whether it is the right policy.
    lifts: bool = True
    # Quote the patient's matching record beside the section ("does Medicare cover X for this
    # patient": the criterion and the patient's condition, both cited).
    with_patient_record: bool = False
    # The kind that answers instead when this section says nothing ("Nationally Covered Indications:
    # N/A" — the coverage position is then in the non-covered indications).
    instead: str | None = None
    # The section's items are the answer whatever else the question names: in "When does Medicare
    # cover sleep testing?" the service's name chooses the policy, not the sentences of its criteria.
    whole: bool = False
    # Among this kind's headers, the ones to quote from when the document has them: "B. Nationally
    # Covered Indications" rather than its parent "Indications and Limitations of Coverage".
    narrowest: re.Pattern[str] | None = None
    # The coded record that IS this section's subject (FHIR resource type): when the retriever is sure
    # of one, it answers instead of a note's section ("plan of care": the CarePlan in force, not the
    # plan written in some visit's note).
    record_kind: str | None = None


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


# "What health insurance does the patient have?": the patient's own plan, asked of their record.
OWN_PLAN = re.compile(
    r"\b(insurance|insurer|health plan|payer|coverage|carrier)\b.{0,40}\b(does|do|did)\b.{0,40}\bhave\b|"
    r"\bwho is (the |his |her |their )?(insurer|payer|insurance|carrier)\b|"
    # "Is the patient on Medicaid?" — but "What dose is the patient on now?" is about a drug: a payer
    # word must follow ("working on in the care plan", "management plan", "plan of care" name no payer;
    # a "managed care plan" does).
    r"\b(is|are) (the patient|he|she|they)\b.{0,20}\b(on|enrolled in|covered by|insured by|a member of)\b"
    r"(?=.{0,40}\b(insurance|insured|insurer|health plan|(?:(?<=managed care )|(?<=health care )|(?<!care )(?<!management )(?<!treatment ))plan(?! of care)|payer|payor|medicare|medicaid|tricare|hmo|ppo)\b)|"
    r"\b(what|which) (health )?(insurance|insurer|health plan|payer|carrier)\b|"
    r"\b(insurance|member|subscriber) (id|number|status|information|details)\b",
    re.I,
)
# Payers by the names they go by (CMS programmes and the largest US health insurers), plus the words
# notes use for having none: a sentence naming one says what the patient's insurance is.
PAYERS = re.compile(
    r"\b(insurance|insured|insurer|payer|payor|medicare|medicaid|tricare|champva|blue cross|blue shield|"
    r"aetna|cigna|humana|unitedhealthcare|united ?health ?care|kaiser|anthem|centene|molina|wellcare|"
    r"dual eligible|self[- ]pay|uninsured)\b",
    re.I,
)

# Headers are matched in this order (the first kind wins: "Impression and plan" is a plan,
# "Follow-up appointments and recommendations" a follow-up); cues likewise, most specific first.
KINDS: tuple[SectionKind, ...] = (
    SectionKind(
        "insurance",
        _rx(r"^(health )?(insurance|payer|payor|insurer|coverage)( information)?$"),
        OWN_PLAN,
        PAYERS,
        prose_answers=True,
    ),
    # Coverage determinations: what Medicare covers, and what it does not (CMS NCD subsections).
    SectionKind(
        "non-covered indications",
        _rx(r"^nationally non-?\s?covered( indications?)?$"),
        _rx(r"\b(not|never) (be )?covered\b|\bnon-?covered\b|\bexclu(ded|sions?)\b.{0,30}\bcoverage\b"),
        lifts=False,
        whole=True,
    ),
    SectionKind(
        "covered indications",
        _rx(
            r"^nationally covered indications?$|^covered indications?$|^indications and limitations of coverage$"
        ),
        _rx(
            r"\b(does|do|will|would|when does|when will) (medicare|medicaid|the payer|insurance) (cover|pay)\b|"
            r"\bcovered indications?\b|\bcoverage criteria\b|\bcriteria\b.{0,40}\b(cover\w*|medicare)\b|"
            r"\b(medicare|medicaid)\b.{0,20}\b(criteria\b|(require[sd]?|requirements?)\b"
            # ... but whether it requires a prior authorization or a referral is the payer's rule.
            r"(?!.{0,40}\b(prior|pre-?auth\w*|pre-?cert\w*|authoriz\w*|pa|referrals?)\b))|"
            r"\bcovered by (medicare|medicaid)\b"
        ),
        lifts=False,
        with_patient_record=True,
        instead="non-covered indications",
        whole=True,
        narrowest=_rx(r"^(nationally )?covered indications?$"),
    ),
    SectionKind(
        "discharge medications",
        _rx(r"\bdischarge\b.*\b(medications?|meds|prescriptions?)\b|\b(medications?|meds)\b.*\bdischarge\b"),
        _rx(
            r"\b(discharge[d]?\b.{0,30}\b(medications?|meds|prescriptions?)|"
            r"(medications?|meds|prescriptions?)\b[^.?!,;]{0,30}\b(discharge[d]?|(sent|going|go) home (on|with)))\b"
        ),
        _rx(r"\bdischarg\w*"),
    ),
    SectionKind(
        "allergies",
        _rx(r"\ballerg"),
        _rx(r"\ballerg\w*"),
        _rx(r"\ballerg\w*|\bnkda\b"),
    ),
    SectionKind(
        "follow-up",
        _rx(r"\bfollow[\s-]?up|\bdischarge (instructions|plan|recommendations)\b|^disposition$"),
        # Follow-up as a section ("What follow-up was arranged?"), not follow-up tasks or visits,
        # which are records ("Which follow-ups are open?").
        _rx(
            r"\bfollow[\s-]?up (was |were |is |are |has been |have been )?(arranged|planned|recommended|advised|"
            r"instructions?|plan)\b|\b(discharge (recommendations|instructions|plan)|recommend\w* at discharge)\b|"
            r"\b(after|post)[\s-]?discharge\b|"
            # "What follow-up did the discharge summary recommend?"
            r"\b(what|which) follow[\s-]?up\b[^?!]{0,50}\b(recommend|advis)\w*"
        ),
        _rx(r"\bfollow[\s-]?up|\breturn to (the )?(clinic|office)\b"),
    ),
    SectionKind(
        "indications",
        _rx(
            r"\bindications?\b|^reason for (the )?(procedure|operation|surgery|exam|examination|study|referral)$"
        ),
        _rx(
            r"\bindicat\w*|\bwhy was (the|this) (procedure|operation|surgery|study|exam)\b|"
            r"\breason for the (procedure|operation|surgery|study|exam)\b"
        ),
    ),
    SectionKind(
        "findings",
        _rx(r"\bfindings\b"),
        # "What was found?" of a report; "What was found on the last colonoscopy?" names a record.
        _rx(
            r"\bfindings?\b|^\W*what (was|were) found\W*$|"
            r"\bwhat did the (study|scan|exam|procedure|operation|imaging) (show|find|reveal)\b"
        ),
    ),
    SectionKind(
        "plan",
        _rx(r"\bplan\b|^recommendations?$|^next steps?$"),
        # "next steps" for the patient as a whole; "next steps for her cardiology referral" names a record.
        _rx(
            r"\b(the|treatment|management) plan\b|\bplan of care\b|\bwhat is planned\b|"
            r"\bnext steps?( for (this|the) patient| for (him|her|them))?\W*$"
        ),
        # With no plan section, only a sentence that states an intention answers: "Next, a 1 cm
        # incision was made" in an operative narrative is no next step.
        _rx(
            r"\b(plan(s|ned|ning)?|will|recommend\w*|advis\w*|instruct\w*|follow[\s-]?up|return|continue|"
            r"schedul\w*|refer|referral|start|begin|resume|consider|should|next (visit|appointment))\b"
        ),
        record_kind="CarePlan",
    ),
    SectionKind(
        "impression",
        _rx(r"^(clinical |diagnostic )?impressions?$|^conclusions?$|^interpretation$"),
        _rx(r"\bimpressions?\b|\bconclusions?\b"),
    ),
    SectionKind(
        "social history",
        _rx(r"\bsocial (history|hx)\b"),
        _rx(r"\bsocial (history|hx)\b"),
        # With no social history section, only a sentence stating one of its elements answers (the
        # C-CDA Social History section's: tobacco, alcohol, drug use, marital status, living
        # situation, occupation), never a past medical or family history that shares "history".
        _rx(
            # (not "prepped with alcohol", "drinking fluids", "occupational therapy", "techniques employed").
            r"\b(smok\w*|tobacco|cigar\w*|nicotine|(?<!with )alcohol(ic|ism)?|etoh|illicit|recreational|"
            r"drinks? (alcohol|beer|wine|liquor|socially|daily|occasionally)|(social|heavy|occasional) drink\w*|"
            r"(drug|substance) (use|abuse)|marijuana|cannabis|cocaine|heroin|married|divorced|widow\w*|"
            r"lives (with|alone|at|in)|living (with|alone)|occupation|employed (as|at|by|full|part)|employment|"
            r"unemployed|retired)\b"
        ),
    ),
)
BY_NAME = {k.name: k for k in KINDS}
# What a template's required heading holds when there is nothing under it ("N/A", "Not applicable.").
# Not "None": under ALLERGIES, "None." is the answer.
_SAYS_NOTHING = re.compile(r"^\W*(n/?a|not applicable)\W*$", re.I)


def says_nothing(text: str) -> bool:
    return bool(_SAYS_NOTHING.match(text))


def normalise_title(title: str) -> str:
    """'DISCHARGE MEDICATIONS' / 'Discharge Medications' / '## Discharge medications' → one form."""
    return " ".join(re.sub(r"[#:,]+", " ", title).lower().split())


@lru_cache(maxsize=4096)
def kind_of_header(title: str | None) -> str | None:
    """The section kind a header opens, if it is one carecite knows."""
    if not title:
        return None
    normal = normalise_title(title)
    return next((k.name for k in KINDS if k.header.search(normal)), None)


# A discharge summary's "Recommendations" are its discharge recommendations: the follow-up as well as
# the plan (the C-CDA Discharge Summary carries them as the hospital discharge instructions).
_DISCHARGE_DOCUMENT = re.compile(r"\bdischarge summary\b", re.I)
_RECOMMENDATIONS = re.compile(r"^recommendations?$")


def section_kinds(title: str | None, note_type: str | None = None) -> frozenset[str]:
    """The kinds a section answers for: its header's kind, and for a discharge summary's bare
    "Recommendations" the follow-up too."""
    kind = kind_of_header(title)
    if kind is None:
        return frozenset()
    if (
        kind == "plan"
        and note_type
        and _DISCHARGE_DOCUMENT.search(note_type)
        and _RECOMMENDATIONS.match(normalise_title(title or ""))
    ):
        return frozenset({"plan", "follow-up"})
    return frozenset({kind})


def asked_section(question: str) -> SectionKind | None:
    """The section kind a question asks for ("What follow-up was arranged?" → follow-up), if any."""
    for kind in KINDS:
        if kind.cues.search(question):
            return kind
    return None

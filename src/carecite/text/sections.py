"""Section kinds: what a note's headers mean, and which section a question asks about.

Clinical documents name their sections with a small, stable set of headers (HL7 C-CDA section
titles, LOINC document-section names, and the headers transcription services use: "ALLERGIES:",
"DISCHARGE MEDICATIONS:", "IMPRESSION:", "Follow-Up:"). A curated table maps header wordings to
a kind, and question wordings to the kinds that answer them. It is written from those standards'
titles, not from our synthetic generator; every entry is a header a reader would recognise.

Beyond the curated kinds, every header line a note has is a section (issue 26): ``asked_header``
matches a question to any of the patient's headers by the header's words, a standard vocabulary
(medSpaCy's sectionizer rules, ``section_vocabulary``) and the embedder's agreement. The curated
kinds only add synonyms and policies; they never decide which headers may answer.

One place for this rule: chunking records a chunk's section titles, the offline answerer reads the
answering section's items, and the pipeline declines when no source has the section asked about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from carecite.text.assertion import asks_yes_no
from carecite.text.section_vocabulary import VOCABULARY
from carecite.text.terms import STOP_WORDS, singular, stem, words
from carecite.text.vital_signs import STATES_VITAL_SIGN


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
    # A section asked for by its header (``asked_header``): the normalised titles that hold it. Empty
    # for the curated kinds, which hold by ``section_kinds``.
    titles: frozenset[str] = frozenset()
    # Among notes holding the section, the most recent answers ("What is the plan?" means the latest
    # plan). Not when the question names more than the section ("when is his ortho follow up": the
    # re-ranker's choice of note stands).
    latest: bool = True
    # A yes/no question naming one of the section's elements (``prose``) asks for the section: "does
    # she smoke", "does he live alone" ask the social history, and its asserting sentence answers.
    polar: bool = False
    # What its sentences assert (ConText: "No known allergies", "denies tobacco") answers a yes/no
    # question, so the answer may open with "Yes" / "No" (``extractive.yes_no_lead``). Not for kinds
    # whose sentences answer by status words ConText does not read ("lisinopril ... stopped").
    asserts: bool = False
    # The curated kinds whose sections answer for this one, in the order quoted ("what did the scan
    # show": the report's impression, then its findings). Empty: only this kind's own headers.
    includes: tuple[str, ...] = ()
    # When no source holds the section, the question asks for none: a coded record or the most
    # relevant sentences answer, as for any question ("what did her last echo show" of a record).
    optional: bool = False


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
        asserts=True,
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
    # What a study showed: its conclusion, then the observations it rests on. A diagnostic report's
    # body is its Findings and its Impressions/Conclusions (DICOM PS3.16 CID 7001 "Diagnostic Imaging
    # Report Headings": 121070 Findings, 121072 Impressions, 121076 Conclusions; the ACR Practice
    # Parameter for Communication of Diagnostic Imaging Findings: findings, then an impression that
    # answers the clinical question). Asked by what the study or the clinicians "showed", "found" or
    # "revealed" (the verbs that report results); "what were the findings" names its own section.
    SectionKind(
        "study result",
        _rx(r"(?!)"),  # no header of its own: its sections are the impression's and the findings'
        _rx(
            # ... of a study or its readers, not of the patient ("what did the patient find helpful").
            r"\bwhat did (?!(the )?(patient|pt)\b|he\b|she\b)(the|this|that|his|her|their|they|it|you|we)\b"
            r"[^?.!]{0,40}?"
            r"\b(show|find|reveal|demonstrate)\w*"
        ),
        includes=("impression", "findings"),
        optional=True,
    ),
    SectionKind(
        "findings",
        _rx(r"\bfindings\b"),
        # "What was found?" of a report; "What was found on the last colonoscopy?" names a record.
        _rx(r"\bfindings?\b|^\W*what (was|were) found\W*$"),
    ),
    SectionKind(
        "plan",
        _rx(r"\bplan\b|^recommendations?$|^next steps?$"),
        # "next steps" for the patient as a whole; "next steps for her cardiology referral" names a record.
        _rx(
            # "recommendations" is this kind's own header word (above; DICOM CID 7001 121074).
            r"\b(the|treatment|management) plan\b|\bplan of care\b|\bwhat is planned\b|\brecommendations\b|"
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
        # A header's head noun names its section, whatever qualifies it ("FINAL IMPRESSION",
        # "DIAGNOSTIC IMPRESSION": DICOM CID 7001 121072 Impressions, 121076 Conclusions).
        _rx(r"^([a-z]+ )?(impressions?|conclusions?)$|^interpretation$"),
        _rx(r"\bimpressions?\b|\bconclusions?\b"),
    ),
    # The diagnosis a clinician reached: a "DIAGNOSIS" / "FINAL DIAGNOSES" section, else the assessment
    # or impression (HL7 C-CDA R2.1 Assessment Section, LOINC 51848-0: "also referred to as
    # 'impression' or 'diagnoses' outside of the context of CDA"). Asked for as the diagnosis itself
    # ("what's the diagnosis for his foot"), not a diagnosis of a named condition ("diagnosis of
    # diabetes": a record question) nor whether one was made ("was she diagnosed with ...").
    SectionKind(
        "diagnosis",
        _rx(r"^([a-z]+ )?(diagnosis|diagnoses)$|^assessments?$"),
        _rx(r"\b(what|whats|what's|what is|what was|what were)\b[^?.!]{0,30}\bdiagnos[ie]s\b(?! of\b)"),
        includes=("diagnosis", "impression"),
        optional=True,
    ),
    # The C-CDA Vital Signs Section (LOINC 8716-3), asked by its name. Notes often record vital signs
    # under the physical examination or a SOAP note's "OBJECTIVE:" with no header of their own: a
    # sentence stating one with its value (LOINC's vital signs panel, ``text.vital_signs``) answers.
    SectionKind(
        "vital signs",
        _rx(r"^vital(s| signs?)$"),
        _rx(r"\bvital(s| signs?)\b"),
        STATES_VITAL_SIGN,
        prose_answers=True,
        optional=True,
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
            r"lives? (with|alone|at|in|by (him|her|them)sel(f|ves))|living (with|alone)|occupation|employed (as|at|by|full|part)|employment|"
            r"unemployed|retired)\b"
        ),
        polar=True,
        asserts=True,
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
    # "SHX" is the social history: shorthand written out ("SHORTHAND", below) is matched too.
    spelled = " ".join(SHORTHAND.get(w, w) for w in normal.split())
    return next((k.name for k in KINDS if k.header.search(normal) or k.header.search(spelled)), None)


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
    """The section kind a question asks for ("What follow-up was arranged?" → follow-up), if any; a
    yes/no question naming one of a ``polar`` kind's elements ("does she smoke?") asks for that kind."""
    # Of several kinds named, the one named first: a question names what it asks for before what
    # qualifies it ("what is the plan for her allergy symptoms" asks for the plan, not the allergies).
    named = [(m.start(), i) for i, kind in enumerate(KINDS) if (m := kind.cues.search(question))]
    if named:
        return KINDS[min(named)[1]]
    if asks_yes_no(question):
        for kind in KINDS:
            if kind.polar and kind.prose is not None and kind.prose.search(question):
                return kind
    return None


# --------------------------------------------------------------------------- any header a note has
# Every header line a note has is a section, whatever its wording. A question asks for one when it
# names it: by the header's own words (with the shorthand below written out), or by the section
# category a standard vocabulary files the header under (medSpaCy's sectionizer rules,
# ``section_vocabulary``), and its meaning agrees (the embedder's cosine between the question and
# the header, alone or with its first line). The curated kinds above add synonyms and policies; they
# decide nothing about which other headers may answer.

# Shorthand clinicians write for section words (and askers type), written out before comparing.
SHORTHAND: dict[str, str] = {
    "meds": "medications",
    "med": "medication",
    "hx": "history",
    "shx": "social history",
    "sh": "social history",
    "fhx": "family history",
    "fh": "family history",
    "pmh": "past medical history",
    "pmhx": "past medical history",
    "psh": "past surgical history",
    "pshx": "past surgical history",
    "hpi": "history of present illness",
    "dx": "diagnosis",
    "ddx": "differential diagnosis",
    "vitals": "vital signs",
    "labs": "laboratory",
    "lab": "laboratory",
    "xray": "radiograph",
    "xrays": "radiographs",
    "cxr": "chest radiograph",
    "ros": "review of systems",
    "ed": "emergency department",
    "er": "emergency department",
    "imp": "impression",
}
# Verbs a question asks a section's content with: what a patient is "taking" is their medications
# (FHIR R4 MedicationStatement: "a record of a medication that is being consumed by a patient", once
# asked by its ``taken`` element). Not "take", which also asks how long something takes.
SECTION_VERBS: dict[str, str] = {"taking": "medications", "takes": "medications"}
# The calibrated cosine (question vs header, or header and its first line) a header the question
# names must also reach (dev questions, independent author A; precision first: a lifted wrong section
# is quoted as the answer): every word of the header named, or only some ("INJECTATE USED" for "what
# did they inject" reached 0.76; "NEXT STEPS" for "when is his next lung doctor appointment" must not).
HEADER_SIMILARITY = 0.3
PARTIAL_HEADER_SIMILARITY = 0.5
# Of a header's words, the share the question must name ("injectate used" for "what did they inject").
HEADER_COVERAGE = 0.5
_PREFIX_MIN = 6  # "inject" names "injectate": one word a prefix of the other, the shorter this long


def _term(word: str) -> str:
    if word.endswith(("oses", "yses")):  # "diagnoses" is the plural of "diagnosis"
        word = word[:-2] + "is"
    return stem(singular(word))


@lru_cache(maxsize=8192)
def section_terms(text: str) -> frozenset[str]:
    """The words of a header or question that can name a section: shorthand written out, stop words
    dropped, singular and stemmed ("Meds" and "MEDICATIONS" both give "medic")."""
    lowered = re.sub(r"\bx-(rays?)\b", r"x\1", text.lower()).replace("/", " ")
    out: set[str] = set()
    for w in words(lowered):
        for part in SHORTHAND.get(w, SECTION_VERBS.get(w, w)).split():
            if (
                part not in STOP_WORDS
                and singular(part) not in STOP_WORDS
                and len(part) > 1
                and not part.isdigit()
            ):
                out.add(_term(part))
    return frozenset(out)


def _same(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= _PREFIX_MIN and (a.startswith(b) or b.startswith(a)))


def names_medications(text: str) -> bool:
    """Does a question or header name the medications ("meds", "MEDICATIONS", "med changes")?"""
    return section_terms(text) >= _MEDICATIONS


_MEDICATIONS = section_terms("medications")


def category_of(title: str) -> str | None:
    """The standard category a header is filed under ("HOME MEDICATIONS" → medications), if any."""
    return VOCABULARY.get(normalise_title(title))


def _category_words(category: str) -> str:
    return category.replace("_and_", " ").replace("_", " ")


@lru_cache(maxsize=1)
def _section_words() -> frozenset[str]:
    """Every word that names a section somewhere in the vocabulary, the shorthand or the curated kinds."""
    texts = [*VOCABULARY, *map(_category_words, set(VOCABULARY.values())), *SHORTHAND.values()]
    texts += [k.name for k in KINDS]
    return frozenset().union(*(section_terms(t) for t in texts))


@lru_cache(maxsize=1)
def _category_names() -> frozenset[str]:
    """The words that name a section category (the vocabulary's categories, the curated kinds)."""
    texts = [*map(_category_words, set(VOCABULARY.values())), *(k.name for k in KINDS)]
    return frozenset().union(*(section_terms(t) for t in texts))


def _vocabulary_named(question: str) -> tuple[str, str] | None:
    """The longest header of the standard vocabulary the question names, word for word with its
    shorthand written out ("home meds" → "home medications"), and its category."""
    spelled = " " + " ".join(SHORTHAND.get(w, w) for w in re.findall(r"[a-z/]+", question.lower())) + " "
    found = [k for k in VOCABULARY if " " in k and f" {k} " in spelled]
    if not found:
        return None
    longest = max(found, key=len)
    return longest, VOCABULARY[longest]


def header_coverage(question: str, title: str) -> tuple[int, float]:
    """How fully the question names the header: how many of the question's words the header names,
    and the share of the header's words (or of its vocabulary category's) the question names. (0, 0)
    when the question also names another section ("chest" is not what "what did her chest xray show"
    asks for: "radiograph" names a section)."""
    asked = section_terms(question)
    best = (0, 0.0)
    variants = [section_terms(title)]
    if (category := category_of(title)) is not None:
        variants.append(section_terms(_category_words(category)))
        # The question names a header the standard vocabulary files under the same category ("home
        # meds" and "MEDICATIONS" are both medSpaCy's medications): the whole header is named.
        # Never past a word of the header the question leaves out ("ADMISSION MEDICATIONS" is no
        # answer to "discharge meds").
        filed = _vocabulary_named(question)
        if filed and filed[1] == category and section_terms(title) <= section_terms(filed[0]):
            return len(section_terms(title)), 1.0
    for named in variants:
        if not named:
            continue
        covered = [h for h in named if any(_same(h, q) for q in asked)]
        others = [q for q in asked if q in _section_words() and not any(_same(q, h) for h in named)]
        # "ALLERGIES TO MEDICATIONS" is no answer to "list her current medications": a header word the
        # question leaves unnamed names a category of its own.
        unnamed = [h for h in named if h not in covered and h in _category_names()]
        if covered and not others and not unnamed:
            hits = sum(any(_same(q, h) for h in named) for q in asked)
            # Ranked by the words the header's own title names when it names any: medSpaCy files
            # PAST SURGICAL HISTORY under past medical history, but "PMH" asks for the medical one.
            own = sum(any(_same(q, h) for h in variants[0]) for q in asked)
            best = max(best, (own or hits, len(covered) / len(named)))
    return best


@dataclass(frozen=True)
class Header:
    """A section header a patient's note has, with the first line of what it holds."""

    title: str
    first_line: str


def asked_header(
    question: str,
    headers: Sequence[Header],
    similarity: Callable[[str, Sequence[str]], Sequence[float]],
) -> SectionKind | None:
    """The patient's note section a question asks for, among ``headers`` (any wording).

    A header answers when the question names at least ``HEADER_COVERAGE`` of its words (or of its
    standard category's) and names no other section, and its meaning agrees: the cosine
    (``similarity``) between the question and the header, or the header with its first line,
    reaches ``HEADER_SIMILARITY`` (``PARTIAL_HEADER_SIMILARITY`` when it names only some of the
    header's words). Of several, those naming most of the question's words answer. A header
    with nothing under it answers nothing. A header's own shorthand in the question counts as its
    words (``header_shorthand``)."""
    question = header_shorthand(question, [h.title for h in headers if h.first_line.strip()])
    named = [
        (h, cov) for h in headers if h.first_line.strip() and (cov := header_coverage(question, h.title))[0]
    ]
    named = [(h, cov) for h, cov in named if cov[1] >= HEADER_COVERAGE]
    if not named:
        return None
    texts = [t for h, _ in named for t in (h.title, f"{h.title}: {h.first_line}")]
    sims = list(similarity(question, texts))
    agreed = [
        (cov[0], h)
        for i, (h, cov) in enumerate(named)
        if max(sims[2 * i], sims[2 * i + 1])
        >= (HEADER_SIMILARITY if cov[1] == 1.0 else PARTIAL_HEADER_SIMILARITY)
    ]
    if not agreed:
        return None
    # The headers naming most of the question's words ("short term goals", not "goals"); all of them
    # when several do (an operative note's "OPERATIVE PROCEDURE" and its "PROCEDURE" narrative).
    top = max(hits for hits, _ in agreed)
    chosen = [h for hits, h in agreed if hits == top]
    titles = frozenset(normalise_title(h.title) for h in chosen)
    first = normalise_title(chosen[0].title)
    mine = frozenset().union(*(section_terms(t) for t in titles))
    words_named = sorted(
        {w for w in words(question) if any(_same(a, b) for a in section_terms(w) for b in mine)}
    )
    cue = "|".join(re.escape(w) for w in words_named) or r"(?!)"
    asked = section_terms(question)
    more = [q for q in asked if not any(_same(q, h) for h in mine)]
    return SectionKind(
        first,
        _rx("^(" + "|".join(map(re.escape, sorted(titles))) + ")$"),
        _rx(rf"\b({cue})\b"),
        titles=titles,
        latest=not more,
    )


def _initials(words_: Sequence[str]) -> str:
    return "".join(w[0] for w in words_)


def header_shorthand(question: str, titles: Sequence[str]) -> str:
    """``question`` with each word that is one header's own shorthand written as that header: its
    initials, with or without its small words ("EBL" for ESTIMATED BLOOD LOSS, "ROS" for REVIEW OF
    SYSTEMS, "A/P" for ASSESSMENT AND PLAN), or the start of one of its words ("dispo" for
    DISPOSITION, "recs" for RECOMMENDATIONS). Only a word no English word list knows is read so (not
    "bed" nor "plan"), and only when exactly one header reads it: the note's own headers are the
    vocabulary, so no table of section abbreviations is needed."""
    from carecite.text.spelling import english  # the speller's published word list

    spelled: dict[str, set[str]] = {}
    candidates: dict[str, tuple[str, str]] = {}  # typed → (as bare letters, as a truncation's stub)
    for typed in set(words(question.lower())):
        bare = re.sub(r"[/&.-]", "", typed)
        if bare in SHORTHAND:  # the curated section shorthand, written out for the embedder too
            spelled[typed] = {SHORTHAND[bare]}
        elif len(bare) >= 2 and bare.isalpha() and bare not in english():
            candidates[typed] = (bare, bare[:-1] if bare.endswith("s") and len(bare) > 3 else bare)
    read = False  # no header with a word to read: the question stays as typed
    for title in dict.fromkeys(titles):
        title_words = [w for w in words(title.lower()) if w.isalpha()]
        content = [w for w in title_words if w not in STOP_WORDS]
        if not content:
            continue
        read = True
        initials = {_initials(title_words), _initials(content)} if len(content) > 1 else set()
        for typed, (bare, stub) in candidates.items():
            if bare in initials or (
                len(stub) >= 3 and any(len(w) > len(stub) + 1 and w.startswith(stub) for w in content)
            ):
                spelled.setdefault(typed, set()).add(title.lower())
    for typed, found in spelled.items() if read else ():
        if len(found) == 1:
            question = re.sub(
                rf"(?<![\w/&-]){re.escape(typed)}(?![\w/&-])", next(iter(found)), question, flags=re.I
            )
    return question


def holds_kind(kind: SectionKind, title: str | None, note_type: str | None = None) -> bool:
    """Does the section titled ``title`` answer for ``kind`` (a curated kind, or a header asked for)?"""
    if not title:
        return False
    if kind.titles:
        return normalise_title(title) in kind.titles
    held = section_kinds(title, note_type)
    return kind.name in held or any(k in held for k in kind.includes)


@lru_cache(maxsize=1)
def section_vocabulary_words() -> frozenset[str]:
    """Every word a section header or its shorthand is written with (the vocabulary's, the shorthand's
    both ways): words the speller must know, so "xrays" is not corrected away."""
    texts = [*VOCABULARY, *map(_category_words, set(VOCABULARY.values())), *SHORTHAND, *SHORTHAND.values()]
    return frozenset(w for t in texts for w in words(t.replace("/", " ")) if w.isalpha())

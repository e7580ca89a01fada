"""The words a question names record kinds, items, specialties and time with.

Curated tables, each with its source in its comment: the kind vocabulary, the published clinical
abbreviations (``SYNONYMS``), the FHIR R4 status words, the specialty names of the ABMS boards and
NUCC taxonomy, LOINC's specimens and qualifiers. Retrieval reads them too, to render and match rows.
"""

from __future__ import annotations

from carecite.text.terms import singular

# Clinical shorthand a coordinator types → words the records use.
SYNONYMS: dict[str, tuple[str, ...]] = {
    # The published abbreviations of the emergency department (an encounter's class: emergency).
    "er": ("er", "emergency"),
    "ed": ("ed", "emergency"),
    "a1c": ("a1c", "hba1c", "glycated hemoglobin"),
    "hba1c": ("hba1c", "a1c", "glycated hemoglobin"),
    "ldl": ("ldl", "low density lipoprotein"),
    "hdl": ("hdl", "high density lipoprotein"),
    "cleaning": ("cleaning", "plaque", "prophylaxis"),
    "sugar": ("glucose",),
    "kidney": ("creatinine", "egfr"),
    "renal": ("creatinine", "egfr"),
    "egfr": ("egfr", "glomerular"),
    "gfr": ("gfr", "glomerular"),
    "tsh": ("tsh", "thyrotropin"),
    "bmi": ("bmi", "body mass index"),
    "bp": ("bp", "blood pressure"),
    "platelet": ("platelet", "platelets"),
    "platelets": ("platelet", "platelets"),
    "bnp": ("natriuretic", "bnp"),
    "inr": ("inr", "coagulation"),
    "meds": ("medication",),
    "med": ("medication",),
    "pt": ("physical", "therapy"),
    "cardiology": ("cardiology", "cardiologist", "cardiac", "heart"),
    "heart": ("heart", "cardiac", "cardiology", "myocardial", "coronary"),
    # Lay names of conditions, as SNOMED CT displays word them ("heart attack": myocardial infarction).
    "attack": ("attack", "infarction"),
    "cancer": ("cancer", "malignant", "neoplasm", "carcinoma"),
    "stroke": ("stroke", "cerebrovascular"),
    "afib": ("afib", "atrial fibrillation"),
    "copd": ("copd", "chronic obstructive pulmonary disease", "chronic obstructive lung disease"),
    "behavioral": ("behavioral", "psychiatry", "psychiatric", "mental"),
    "diabetes": ("diabetes", "diabetic", "glucose", "a1c"),
    # Vaccines and screenings by the words coordinators use and the words CVX / SNOMED CT displays use.
    "flu": ("flu", "influenza"),
    "influenza": ("influenza", "flu"),
    "shingles": ("shingles", "zoster"),
    "zoster": ("zoster", "shingles"),
    "tetanus": ("tetanus", "td", "tdap"),
    "pneumococcal": ("pneumococcal", "pneumonia", "pcv13", "ppsv23"),
    "covid": ("covid", "sars"),
    "hep": ("hep", "hepatitis"),
    # "Hep B" / "hepatitis B" are one token ("hepb", see _HEP): a known name even where no one has it.
    "hepa": ("hepa",),
    "hepb": ("hepb",),
    "hepc": ("hepc",),
    "hepatitis": ("hepatitis", "hep"),
    "mammogram": ("mammogram", "mammography"),
    "spo2": ("spo2", "oxygen saturation", "pulse oximetry"),
    # Imaging by its abbreviations in the published medical abbreviation lists (MRI, CT) and the
    # words SNOMED CT procedure displays write them with.
    "mri": ("mri", "magnetic resonance"),
    "ct": ("ct", "computed tomography"),
    # A habit by the words a question says it with and the words LOINC 72166-2 ("Tobacco smoking
    # status") displays it with: "does he smoke" names the smoking-status observation.
    **dict.fromkeys(("smoke", "smokes", "smoker", "smoking", "tobacco"), ("smoking", "tobacco")),
}
# Terms that name a procedure (imaging): the question asks for a Procedure row.
PROCEDURE_TERMS = frozenset({"mri", "ct"})

# Named labs and measures: they say WHICH observation is asked for (see GENERIC_TERMS).
LAB_NAMES: tuple[str, ...] = tuple(
    "a1c hba1c bnp creatinine potassium ldl inr glucose cholesterol egfr sodium hemoglobin weight bmi pressure spo2".split()
)
# What a question says of each record kind: the nouns that name the kind ("medication", "vaccine"),
# then the words that say what was done or how it stands ("prescribed", "overdue"). Both route a
# question to the kind; only a noun names it inside an item's own name ("Medication Reconciliation").
KIND_VOCABULARY: dict[str, tuple[str, str]] = {
    "Task": (
        "follow followup task tasks todo action actions outreach",
        "outstanding overdue pending open due call",
    ),
    "ServiceRequest": (
        "referral referrals consult consultation order orders",
        "referred refer ordered pending outstanding",
    ),
    "Appointment": (
        "appointment appointments visit visits schedule",
        "scheduled booked upcoming next missed noshow show cancelled canceled seen attend attended",
    ),
    "Observation": ("lab labs result results value level levels test reading vitals", "measured"),
    "MedicationRequest": (
        # "medicine(s)": MedlinePlus's own topic name for them ("Medicines"), the lay word.
        "medication medications medicine medicines med meds drug drugs dose dosage prescription mg tablet",
        "taking prescribed stopped started",
    ),
    "CarePlanActivity": ("careplan activities activity goals goal", ""),
    "Condition": ("condition conditions problem problems diagnosis diagnoses history", "diagnosed"),
    "AllergyIntolerance": ("allergy allergies allergic intolerance", ""),
    # "flu" names WHICH immunization (see GENERIC_TERMS), as a lab's name names which observation.
    "Immunization": ("immunization immunizations vaccine vaccines vaccination shot", "vaccinated flu"),
    "Procedure": ("procedure procedures surgery operation screening", "performed"),
    "Encounter": (
        "admission admissions admit admits encounter encounters hospitalization ed er emergency inpatient",
        "admitted hospitalized discharged",
    ),
    # The people on the patient's care teams, by the nouns a question names a person's role with
    # (issue 27: "who is his heart doctor / care coordinator / therapist" had declined). A role's
    # specialty is read through SPECIALTIES, so "heart doctor" finds the team's cardiology member.
    "CareTeam": (
        "doctor doctors physician physicians provider providers pcp team teams careteam coordinator "
        "coordinators nurse nurses therapist therapists counselor counselors counsellor specialist "
        "specialists clinician clinicians caregiver",
        "",
    ),
}
KIND_WORDS: dict[str, tuple[str, ...]] = {
    kind: (*nouns.split(), *others.split(), *(LAB_NAMES if kind == "Observation" else ()))
    for kind, (nouns, others) in KIND_VOCABULARY.items()
}
# Words that name a kind of record and nothing more specific ("medication", "vaccine", "procedure").
KIND_NOUNS = frozenset(w for nouns, _ in KIND_VOCABULARY.values() for w in nouns.split())


# Kind words that say how (status, time), not what: "outstanding" alone means tasks or referrals, but
# "follow-up tasks still outstanding" asks for tasks only — a kind the question names by noun wins.
MODIFIER_WORDS = frozenset(
    "outstanding overdue pending open due scheduled booked upcoming next missed noshow cancelled canceled "
    "stopped started taking".split()
)
# Clinical specialties by their names (what a question says: "nephrology appointment", "ortho f/u")
# and the further words a row may name them with ("renal clinic", "Psychotherapy session"). Curated
# from the specialty names of the ABMS boards and the NUCC taxonomy.
SPECIALTIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cardiology": (("cardiology", "cardiologist"), ("cardiac", "heart")),
    "nephrology": (("nephrology", "nephrologist"), ("renal", "kidney", "dialysis")),
    "pulmonology": (("pulmonology", "pulmonologist"), ("pulmonary", "lung", "respiratory")),
    "orthopedics": (("orthopedics", "orthopaedics", "orthopedist", "ortho"), ("orthopedic", "orthopaedic")),
    "endocrinology": (("endocrinology", "endocrinologist"), ("endocrine", "diabetes", "thyroid")),
    "gastroenterology": (("gastroenterology", "gastroenterologist"), ("gi", "gastrointestinal")),
    "neurology": (("neurology", "neurologist"), ("neuro", "neurological")),
    "oncology": (("oncology", "oncologist"), ("cancer", "chemotherapy", "tumor")),
    "hematology": (("hematology", "hematologist"), ("blood",)),
    "dermatology": (("dermatology", "dermatologist"), ("skin",)),
    "rheumatology": (("rheumatology", "rheumatologist"), ("arthritis",)),
    "urology": (("urology", "urologist"), ("urologic", "prostate", "bladder")),
    "ophthalmology": (("ophthalmology", "ophthalmologist", "optometry"), ("eye", "retinal", "vision")),
    "otolaryngology": (("otolaryngology", "ent"), ("ear", "throat", "audiology")),
    "podiatry": (("podiatry", "podiatrist"), ("foot",)),
    # ABMS "Obstetrics and Gynecology"; "OB" is read here, never by the published list's one sense
    # (occult blood).
    "obstetrics": (
        ("obstetrics", "obstetrician", "gynecology", "gynecologist", "ob", "obgyn", "gyn"),
        ("obstetric", "gynecologic"),
    ),
    "psychiatry": (
        ("psychiatry", "psychiatrist", "psychology", "psychologist"),
        ("behavioral", "psychiatric", "mental", "psychotherapy", "counseling", "substance"),
    ),
}


def specialty_words(name: str) -> tuple[str, ...]:
    """A specialty named by name ("pulmonology") is also said by its other names and words
    ("pulmonary rehabilitation", "lung"): a row names it by any of them. () for any other word."""
    return _SPECIALTY_BY_NAME.get(name, ())


def specialty_started(word: str) -> str | None:
    """The specialty a clinician's truncation names ("pulm", "nephro", "derm"), by its name
    ("pulmonology"): a word of four letters or more that is the start of the names of one specialty
    only. None for a whole name, an English word ("card") or a start several specialties share."""
    from carecite.text.spelling import english  # the speller's published word list

    if len(word) < 4 or not word.isalpha() or word in english():
        return None
    found = {
        names[0]
        for names, words in SPECIALTIES.values()
        if word not in (*names, *words) and any(n.startswith(word) and len(n) >= len(word) + 2 for n in names)
    }
    return found.pop() if len(found) == 1 else None


# Each specialty name → all the names and words of its specialty (the first entry naming it wins).
_SPECIALTY_BY_NAME: dict[str, tuple[str, ...]] = {}
for _names, _words in SPECIALTIES.values():
    for _name in _names:
        _SPECIALTY_BY_NAME.setdefault(_name, (*_names, *_words))


# The words of the FHIR R4 status codes of the kinds read here (RequestStatus, TaskStatus, EventStatus,
# AppointmentStatus, CarePlanActivityStatus, condition clinical status): "in progress", "completed",
# "on hold" say how a record stands, never which one it is.
FHIR_STATUS_WORDS = frozenset(
    "draft active hold revoked completed entered error unknown requested received accepted "
    "rejected ready cancelled canceled progress failed preparation done stopped proposed pending booked "
    "arrived fulfilled noshow checked waitlist recurrence relapse inactive remission resolved started "
    "scheduled".split()
)
# "the latest", "currently": the most recent row of an item, or what is current.
RECENT_WORDS = frozenset({"recent", "recently", "latest", "last", "newest", "current", "currently", "now"})
# "previous", "old": history is asked for, not only what is in force.
PAST_WORDS = frozenset({"past", "previous", "prior", "old", "former", "earlier", "history", "historical"})
# Words that say what KIND of record is asked for, or how (status, time) — not WHICH one.
GENERIC_TERMS = frozenset(
    {w for words in KIND_WORDS.values() for w in words}
    | FHIR_STATUS_WORDS
    | RECENT_WORDS
    | PAST_WORDS
    | set(
        "most new value values file chart record today dose doses scheduled "
        "date when many much units result results ratio total shot shots get got given receive received "
        # Words that qualify a kind without naming an item: "active medical problems", "health issues".
        "medical health clinical issue issues "
        # Words asking for the whole list, not an item of it ("full active med list").
        "full entire whole".split()
    )
) - {*LAB_NAMES, "flu"}  # "flu" names WHICH immunization


def is_generic(word: str) -> bool:
    """A generic term in either number ("prescriptions" as "prescription")."""
    return word in GENERIC_TERMS or singular(word) in GENERIC_TERMS


# Specimens other than blood a lab name may state: a row naming one is another quantity ("Glucose
# [Mass/volume] in Urine" is not "glucose"), and a question naming one names it even where no row of
# the store does. Blood is the default specimen: "blood glucose" is glucose (see ``tokens``).
SPECIMENS = frozenset({"urine", "csf", "stool", "saliva", "sputum"})
# Words that make a different quantity of the same analyte: "cholesterol" is not "LDL cholesterol",
# "hemoglobin" not "hemoglobin A1c", "BMI" not "BMI percentile". A row naming one of these answers
# only a question that names it too. Curated from LOINC display conventions.
QUALIFIERS: tuple[frozenset[str], ...] = tuple(
    frozenset(p.split())
    for p in (
        "ldl",
        "low density lipoprotein",
        "hdl",
        "high density lipoprotein",
        "vldl",
        "a1c",
        "percentile",
        "mean",
        *sorted(SPECIMENS),
    )
)

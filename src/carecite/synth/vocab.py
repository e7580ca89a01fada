"""Fixed vocabulary of the synthetic world: facilities, clinicians, users, codes, name pools.

Everything here is constant; randomness lives in ``world.py`` (one ``random.Random`` per patient).
Codes are real (LOINC, SNOMED CT, RxNorm-like display strings, ICD-10-CM) so the records look like
what an EHR exports; identifiers (NPIs, MRNs, phone numbers) are fake and flagged as synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
MRN_SYSTEM = "urn:carecite:mrn"
USER_SYSTEM = "urn:carecite:user"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
SYNTHETIC_TAG = {"system": "urn:carecite:synthetic", "code": "synthetic", "display": "Synthetic test data"}


# --------------------------------------------------------------------------- facilities
@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    kind: str  # hospital | primary | cardiology | behavioral
    city: str
    phone: str

    @property
    def ref(self) -> str:
        return f"Organization/{self.id}"


HOSPITAL = Facility("org-mercy", "Mercy General Hospital", "hospital", "Riverton", "555-0100")
PRIMARY = Facility("org-lakeside", "Lakeside Family Medicine", "primary", "Riverton", "555-0140")
CARDIOLOGY = Facility("org-harbor", "Harbor Heart & Vascular Associates", "cardiology", "Bayview", "555-0170")
BEHAVIORAL = Facility("org-northside", "Northside Behavioral Health", "behavioral", "Riverton", "555-0190")
FACILITIES: tuple[Facility, ...] = (HOSPITAL, PRIMARY, CARDIOLOGY, BEHAVIORAL)


# --------------------------------------------------------------------------- clinicians
@dataclass(frozen=True)
class Clinician:
    """A Practitioner. ``id`` equals the user id for clinicians who are also carecite users."""

    id: str
    given: str
    family: str
    prefix: str  # "Dr." or ""
    suffix: str  # "MD", "RN", "LCSW", ...
    role: str  # qualification text, read by the ingester as the note author's role
    specialty: str
    facility: Facility
    npi: str

    @property
    def ref(self) -> str:
        return f"Practitioner/{self.id}"

    @property
    def display(self) -> str:
        name = f"{self.given} {self.family}"
        return f"{self.prefix} {name}, {self.suffix}".strip() if self.prefix else f"{name}, {self.suffix}"

    @property
    def short(self) -> str:
        return f"Dr. {self.family}" if self.prefix else f"{self.given} {self.family}"


def _c(cid: str, name: str, suffix: str, role: str, specialty: str, fac: Facility, npi: str) -> Clinician:
    given, family = name.split(" ", 1)
    prefix = "Dr." if suffix in ("MD", "DO") else ""
    return Clinician(cid, given, family, prefix, suffix, role, specialty, fac, npi)


# Clinicians who are also carecite users (Practitioner.id == user id, plus a user identifier).
CC_AMY = _c("cc-amy", "Amy Lee", "RN", "Care Coordinator", "care management", PRIMARY, "9000000011")
CC_BEN = _c("cc-ben", "Ben Okafor", "MSW", "Care Coordinator", "care management", HOSPITAL, "9000000012")
CC_CARLA = _c(
    "cc-carla", "Carla Mendes", "RN", "Care Coordinator", "care management", CARDIOLOGY, "9000000013"
)
CC_OMAR = _c("cc-omar", "Omar Haddad", "LSW", "Care Coordinator", "care management", BEHAVIORAL, "9000000014")
RN_DANA = _c("rn-dana", "Dana Whitfield", "RN", "Registered Nurse", "nursing", HOSPITAL, "9000000021")
RN_ELI = _c("rn-eli", "Eli Novak", "RN", "Registered Nurse", "nursing", PRIMARY, "9000000022")
MD_FARAH = _c("md-farah", "Leila Farah", "MD", "Physician", "cardiology", CARDIOLOGY, "9000000031")
MD_GOMEZ = _c("md-gomez", "Rafael Gomez", "MD", "Physician", "family medicine", PRIMARY, "9000000032")
BH_HANA = _c("bh-hana", "Hana Ito", "MD", "Physician", "psychiatry", BEHAVIORAL, "9000000033")

# Clinicians who are not users.
HOSPITALIST_1 = _c("pr-reyes", "Samuel Reyes", "MD", "Physician", "hospital medicine", HOSPITAL, "9000000101")
HOSPITALIST_2 = _c(
    "pr-kowalski", "Anita Kowalski", "MD", "Physician", "hospital medicine", HOSPITAL, "9000000102"
)
CARDIO_2 = _c("pr-bell", "Marcus Bell", "MD", "Physician", "cardiology", CARDIOLOGY, "9000000103")
PCP_2 = _c("pr-cho", "Helen Cho", "MD", "Physician", "family medicine", PRIMARY, "9000000104")
ENDO = _c("pr-osei", "Victor Osei", "MD", "Physician", "endocrinology", PRIMARY, "9000000105")
PULM = _c("pr-lindqvist", "Grace Lindqvist", "MD", "Physician", "pulmonology", HOSPITAL, "9000000106")
SLEEP = _c("pr-walsh", "Irene Walsh", "MD", "Physician", "sleep medicine", HOSPITAL, "9000000107")
ORTHO = _c("pr-adeyemi", "Tunde Adeyemi", "MD", "Physician", "orthopedics", HOSPITAL, "9000000108")
NEPHRO = _c("pr-sato", "Ken Sato", "MD", "Physician", "nephrology", HOSPITAL, "9000000109")
RADIOLOGY = _c("pr-nguyen", "Paul Nguyen", "MD", "Physician", "radiology", HOSPITAL, "9000000110")
PATHOLOGY = _c("pr-ferreira", "Lucia Ferreira", "MD", "Physician", "pathology", HOSPITAL, "9000000111")
THERAPIST = _c("pr-goldberg", "Maya Goldberg", "LCSW", "Therapist", "psychotherapy", BEHAVIORAL, "9000000112")
SUD_COUNSELOR = _c(
    "pr-reilly", "Tom Reilly", "LADC", "Substance Use Counselor", "addiction", BEHAVIORAL, "9000000113"
)
HH_NURSE = _c("pr-quinn", "Nora Quinn", "RN", "Home Health Nurse", "home health", HOSPITAL, "9000000114")
HH_NURSE_2 = _c(
    "pr-baptiste", "Marie Baptiste", "RN", "Home Health Nurse", "home health", HOSPITAL, "9000000115"
)
PHYS_THERAPIST = _c(
    "pr-morales", "Jake Morales", "PT", "Physical Therapist", "physical therapy", HOSPITAL, "9000000116"
)
CC_ROSA = _c("pr-diaz", "Rosa Diaz", "RN", "Care Coordinator", "care management", CARDIOLOGY, "9000000117")
ANTICOAG_RN = _c(
    "pr-hale", "Greta Hale", "RN", "Registered Nurse", "anticoagulation clinic", CARDIOLOGY, "9000000118"
)
OPHTHO = _c("pr-shah", "Anjali Shah", "MD", "Physician", "ophthalmology", PRIMARY, "9000000119")
CC_SINEAD = _c(
    "pr-okeefe", "Sinead O'Keefe", "RN", "Care Coordinator", "care management", PRIMARY, "9000000120"
)
CC_VANCE = _c(
    "pr-vance", "Marcus Vance", "LSW", "Care Coordinator", "care management", BEHAVIORAL, "9000000121"
)

CLINICIANS: tuple[Clinician, ...] = (
    CC_AMY,
    CC_BEN,
    CC_CARLA,
    CC_OMAR,
    RN_DANA,
    RN_ELI,
    MD_FARAH,
    MD_GOMEZ,
    BH_HANA,
    HOSPITALIST_1,
    HOSPITALIST_2,
    CARDIO_2,
    PCP_2,
    ENDO,
    PULM,
    SLEEP,
    ORTHO,
    NEPHRO,
    RADIOLOGY,
    PATHOLOGY,
    THERAPIST,
    SUD_COUNSELOR,
    HH_NURSE,
    HH_NURSE_2,
    PHYS_THERAPIST,
    CC_ROSA,
    ANTICOAG_RN,
    OPHTHO,
    CC_SINEAD,
    CC_VANCE,
)
USER_CLINICIAN_IDS = frozenset(
    {
        CC_AMY.id,
        CC_BEN.id,
        CC_CARLA.id,
        CC_OMAR.id,
        RN_DANA.id,
        RN_ELI.id,
        MD_FARAH.id,
        MD_GOMEZ.id,
        BH_HANA.id,
    }
)


# --------------------------------------------------------------------------- users
@dataclass(frozen=True)
class UserDef:
    id: str
    name: str
    role: str
    facilities: tuple[Facility, ...]
    care_team_only: bool
    sensitive_access: tuple[str, ...]
    why: str  # one line for the README's overlap table

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "facilities": [f.ref for f in self.facilities],
            "care_team_only": self.care_team_only,
            "sensitive_access": list(self.sensitive_access),
        }


USERS: tuple[UserDef, ...] = (
    UserDef(
        "cc-amy",
        "Amy Lee",
        "care_coordinator",
        (PRIMARY,),
        True,
        (),
        "primary-care coordinator; only patients whose care team lists her",
    ),
    UserDef(
        "cc-ben",
        "Ben Okafor",
        "care_coordinator",
        (HOSPITAL,),
        False,
        (),
        "hospital transitions coordinator; every hospital patient, no sensitive notes",
    ),
    UserDef(
        "cc-carla",
        "Carla Mendes",
        "care_coordinator",
        (CARDIOLOGY, PRIMARY),
        True,
        (),
        "cardiology coordinator at two facilities; care-team only",
    ),
    UserDef(
        "cc-omar",
        "Omar Haddad",
        "care_coordinator",
        (BEHAVIORAL,),
        True,
        ("PSY",),
        "behavioral-health coordinator; PSY but not ETH (42 CFR Part 2)",
    ),
    UserDef(
        "rn-dana",
        "Dana Whitfield",
        "nurse",
        (HOSPITAL,),
        False,
        ("PSY",),
        "hospital nurse with PSY access; every hospital patient",
    ),
    UserDef("rn-eli", "Eli Novak", "nurse", (PRIMARY,), True, (), "primary-care nurse; care-team only"),
    UserDef(
        "md-farah",
        "Leila Farah",
        "physician",
        (HOSPITAL, CARDIOLOGY),
        False,
        (),
        "cardiologist at the hospital and the cardiology practice",
    ),
    UserDef(
        "md-gomez", "Rafael Gomez", "physician", (PRIMARY,), True, (), "family physician; care-team only"
    ),
    UserDef(
        "bh-hana",
        "Hana Ito",
        "physician",
        (BEHAVIORAL, PRIMARY),
        True,
        ("PSY", "ETH"),
        "psychiatrist (behavioral-health clinician) with PSY and ETH; care-team only",
    ),
    UserDef(
        "rv-ivan",
        "Ivan Petrov",
        "reviewer",
        FACILITIES,
        False,
        (),
        "compliance reviewer, all facilities; no patient questions",
    ),
    UserDef(
        "rv-june",
        "June Park",
        "reviewer",
        (HOSPITAL,),
        False,
        ("PSY",),
        "hospital quality reviewer with PSY; no patient questions",
    ),
    UserDef(
        "ad-kim",
        "Kim Alvarez",
        "admin",
        FACILITIES,
        False,
        (),
        "administrator; imports users, verifies the audit trail",
    ),
    UserDef("ad-leo", "Leo Brandt", "admin", (), False, (), "administrator with no facility"),
)
USER_BY_ID = {u.id: u for u in USERS}


# --------------------------------------------------------------------------- codes
@dataclass(frozen=True)
class Lab:
    key: str
    loinc: str
    display: str  # LOINC long name (what the record row shows)
    short: str  # what people call it
    unit: str
    ucum: str
    decimals: int


LABS: dict[str, Lab] = {
    lab.key: lab
    for lab in (
        Lab("a1c", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "%", "%", 1),
        Lab(
            "bnp",
            "30934-4",
            "Natriuretic peptide B [Mass/volume] in Serum or Plasma",
            "BNP",
            "pg/mL",
            "pg/mL",
            0,
        ),
        Lab(
            "creat",
            "2160-0",
            "Creatinine [Mass/volume] in Serum or Plasma",
            "creatinine",
            "mg/dL",
            "mg/dL",
            2,
        ),
        Lab("k", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "potassium", "mmol/L", "mmol/L", 1),
        Lab(
            "ldl",
            "13457-7",
            "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
            "LDL",
            "mg/dL",
            "mg/dL",
            0,
        ),
        Lab("inr", "6301-6", "INR in Platelet poor plasma by Coagulation assay", "INR", "{INR}", "{INR}", 1),
        Lab(
            "egfr",
            "33914-3",
            "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, "
            "Plasma or Blood by Creatinine-based formula (MDRD)",
            "eGFR",
            "mL/min/1.73m2",
            "mL/min/{1.73_m2}",
            0,
        ),
        Lab("spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "SpO2", "%", "%", 0),
        Lab("weight", "29463-7", "Body weight", "weight", "kg", "kg", 1),
        Lab(
            "phq9",
            "44261-6",
            "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
            "PHQ-9",
            "{score}",
            "{score}",
            0,
        ),
        Lab("auditc", "75626-2", "Total score [AUDIT-C]", "AUDIT-C", "{score}", "{score}", 0),
    )
}
VITAL_LABS = frozenset({"spo2", "weight"})
SURVEY_LABS = frozenset({"phq9", "auditc"})


@dataclass(frozen=True)
class Problem:
    key: str
    snomed: str
    icd10: str
    display: str
    short: str


PROBLEMS: dict[str, Problem] = {
    p.key: p
    for p in (
        Problem("chf", "42343007", "I50.23", "Congestive heart failure", "heart failure"),
        Problem("t2dm", "44054006", "E11.65", "Diabetes mellitus type 2", "type 2 diabetes"),
        Problem("htn", "38341003", "I10", "Hypertensive disorder, systemic arterial", "hypertension"),
        Problem("hld", "55822004", "E78.5", "Hyperlipidemia", "hyperlipidemia"),
        Problem("copd", "13645005", "J44.1", "Chronic obstructive lung disease", "COPD"),
        Problem("osa", "78275009", "G47.33", "Obstructive sleep apnea syndrome", "obstructive sleep apnea"),
        Problem("afib", "49436004", "I48.91", "Atrial fibrillation", "atrial fibrillation"),
        Problem("ckd3", "433144002", "N18.30", "Chronic kidney disease stage 3", "CKD stage 3"),
        Problem("hipfx", "5913000", "S72.001A", "Fracture of neck of femur", "hip fracture"),
        Problem("mdd", "370143000", "F33.1", "Major depressive disorder", "major depression"),
        Problem("gad", "21897009", "F41.1", "Generalized anxiety disorder", "generalized anxiety"),
        Problem("aud", "7200002", "F10.20", "Alcohol use disorder", "alcohol use disorder"),
        Problem("oud", "5602001", "F11.20", "Opioid use disorder", "opioid use disorder"),
    )
}


@dataclass(frozen=True)
class NoteType:
    key: str
    loinc: str
    display: str  # LOINC display (what the ingester stores as note_type)


NOTE_TYPES: dict[str, NoteType] = {
    n.key: n
    for n in (
        NoteType("discharge", "18842-5", "Discharge summary"),
        NoteType("progress", "11506-3", "Progress note"),
        NoteType("telephone", "34748-4", "Telephone encounter Note"),
        NoteType("referral", "57133-1", "Referral note"),
        NoteType("consult", "11488-4", "Consult note"),
        NoteType("nursing", "34746-8", "Nurse Note"),
        NoteType("lab", "11502-2", "Laboratory report"),
        NoteType("imaging", "18748-4", "Diagnostic imaging study"),
        NoteType("psych", "28627-8", "Psychiatry Progress note"),
        NoteType("therapy", "34904-3", "Mental health Progress note"),
        NoteType("sud", "28656-7", "Social work Progress note"),
    )
}


@dataclass(frozen=True)
class Specialty:
    """A referral target: the ServiceRequest code, the Appointment service type, who sees them."""

    key: str
    display: str  # "Cardiology"
    snomed: str  # procedure code for the referral
    referral_display: str
    clinician: Clinician
    facility: Facility


SPECIALTIES: dict[str, Specialty] = {
    s.key: s
    for s in (
        Specialty(
            "cardiology", "Cardiology", "183519002", "Referral to cardiology service", MD_FARAH, CARDIOLOGY
        ),
        Specialty(
            "endocrinology", "Endocrinology", "183522000", "Referral to endocrinology service", ENDO, PRIMARY
        ),
        Specialty(
            "pulmonology",
            "Pulmonology",
            "183530004",
            "Referral to respiratory medicine service",
            PULM,
            HOSPITAL,
        ),
        Specialty(
            "pt",
            "Physical therapy",
            "103696004",
            "Referral to physiotherapy service",
            PHYS_THERAPIST,
            HOSPITAL,
        ),
        Specialty(
            "behavioral",
            "Behavioral health",
            "306136006",
            "Referral to psychiatry service",
            BH_HANA,
            BEHAVIORAL,
        ),
        Specialty(
            "home_health", "Home health", "306206005", "Referral to home health service", HH_NURSE, HOSPITAL
        ),
        Specialty(
            "cardiac_rehab",
            "Cardiac rehabilitation",
            "440410003",
            "Referral to cardiac rehabilitation",
            CARDIO_2,
            CARDIOLOGY,
        ),
        Specialty(
            "pulm_rehab",
            "Pulmonary rehabilitation",
            "415316007",
            "Referral to pulmonary rehabilitation service",
            PULM,
            HOSPITAL,
        ),
        Specialty(
            "sleep", "Sleep medicine", "306242002", "Referral to sleep medicine service", SLEEP, HOSPITAL
        ),
        Specialty(
            "nephrology", "Nephrology", "183523005", "Referral to nephrology service", NEPHRO, HOSPITAL
        ),
        Specialty(
            "orthopedics", "Orthopedics", "183545006", "Referral to orthopedic service", ORTHO, HOSPITAL
        ),
        Specialty(
            "ophthalmology",
            "Ophthalmology",
            "183543004",
            "Referral to ophthalmology service",
            OPHTHO,
            PRIMARY,
        ),
        Specialty(
            "dsmt",
            "Diabetes self-management education",
            "385804009",
            "Referral for diabetes self-management education",
            RN_ELI,
            PRIMARY,
        ),
        Specialty("primary", "Primary care", "185389009", "Follow-up visit", MD_GOMEZ, PRIMARY),
        Specialty(
            "anticoag",
            "Anticoagulation clinic",
            "394580004",
            "Referral to anticoagulation clinic",
            ANTICOAG_RN,
            CARDIOLOGY,
        ),
        Specialty(
            "sud",
            "Substance use treatment",
            "386449006",
            "Referral to substance use treatment program",
            SUD_COUNSELOR,
            BEHAVIORAL,
        ),
    )
}


@dataclass(frozen=True)
class Policy:
    """A CMS National Coverage Determination the gold set cites as ``Policy/<ncd_id>``.

    ``ask`` holds (question, patient_specific): a patient-specific question is supported by the
    policy AND the patient's Condition ``condition``; a generic one by the policy alone.
    """

    ncd_id: str
    section: str
    title: str
    condition: str | None
    ask: tuple[tuple[str, bool], ...]


POLICIES: dict[str, Policy] = {
    p.ncd_id: p
    for p in (
        Policy(
            "226",
            "240.4",
            "CPAP therapy for obstructive sleep apnea",
            "osa",
            (
                ("Does Medicare cover CPAP for this patient's sleep apnea?", True),
                ("What does Medicare require before it pays for CPAP for OSA?", False),
                ("Is the CPAP machine covered by Medicare, and how long is the initial trial period?", False),
            ),
        ),
        Policy(
            "169",
            "240.2",
            "Home use of oxygen",
            "copd",
            (
                ("Will Medicare pay for home oxygen for this patient's COPD?", True),
                ("What are the Medicare coverage criteria for home oxygen?", False),
            ),
        ),
        Policy(
            "320",
            "240.8",
            "Pulmonary rehabilitation services",
            "copd",
            (
                ("Is pulmonary rehab covered by Medicare for this patient's COPD?", True),
                ("What does Medicare require for pulmonary rehabilitation coverage?", False),
            ),
        ),
        Policy(
            "359",
            "20.10.1",
            "Cardiac rehabilitation programs for chronic heart failure",
            "chf",
            (
                ("Does Medicare cover cardiac rehab for this patient's heart failure?", True),
                (
                    "What are the Medicare criteria for cardiac rehabilitation in chronic heart failure?",
                    False,
                ),
            ),
        ),
        Policy(
            "251",
            "40.1",
            "Diabetes outpatient self-management training",
            "t2dm",
            (
                ("Is diabetes self-management training covered by Medicare for this patient?", True),
                ("Will Medicare pay for DSMT classes?", False),
            ),
        ),
        Policy(
            "222",
            "40.2",
            "Home blood glucose monitors",
            "t2dm",
            (
                ("Does Medicare cover a home glucose meter for this patient's diabetes?", True),
                ("What are Medicare's conditions for covering home blood glucose monitors?", False),
            ),
        ),
        Policy(
            "269",
            "190.11",
            "Home PT/INR monitoring for anticoagulation",
            "afib",
            (
                ("Could this patient get home INR monitoring covered by Medicare for the AFib?", True),
                ("What does Medicare require for home PT/INR monitoring for patients on warfarin?", False),
            ),
        ),
        Policy(
            "219",
            "280.3",
            "Mobility assistive equipment",
            "hipfx",
            (
                ("Will Medicare cover a walker for this patient after the hip fracture?", True),
                ("What are the Medicare criteria for mobility assistive equipment such as a walker?", False),
            ),
        ),
    )
}


# --------------------------------------------------------------------------- people
GIVEN_F = (
    "Maria",
    "Linda",
    "Patricia",
    "Barbara",
    "Susan",
    "Dorothy",
    "Carol",
    "Ruth",
    "Sharon",
    "Gloria",
    "Evelyn",
    "Joyce",
    "Teresa",
    "Ana",
    "Mei",
    "Fatima",
    "Priya",
    "Grace",
    "Rosa",
    "Irene",
    "Martha",
    "Joan",
    "Denise",
    "Yolanda",
    "Keisha",
    "Hannah",
    "Olga",
    "Nadia",
    "Esther",
    "Lorraine",
)
GIVEN_M = (
    "James",
    "Robert",
    "John",
    "Michael",
    "William",
    "David",
    "Richard",
    "Thomas",
    "Charles",
    "Daniel",
    "Harold",
    "Walter",
    "Raymond",
    "Luis",
    "Jorge",
    "Wei",
    "Ahmed",
    "Rajesh",
    "Samuel",
    "Dennis",
    "Gerald",
    "Eugene",
    "Terrence",
    "Malik",
    "Victor",
    "Stanley",
    "Frank",
    "Arthur",
    "Howard",
    "Curtis",
)
FAMILY = (
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kowalczyk",
    "Chen",
    "Patel",
    "Okonkwo",
    "Novak",
    "Haddad",
    "Schmidt",
    "Olsen",
    "Fitzgerald",
    "Delgado",
    "Yamamoto",
    "Abernathy",
    "Lindgren",
)
STREETS = (
    "Maple Ave",
    "Oak St",
    "Cedar Ln",
    "Riverside Dr",
    "Elm St",
    "Pine Ridge Rd",
    "Lakeview Blvd",
    "Hillcrest Dr",
    "Birch Ct",
    "Willow Way",
    "Sunset Ave",
    "Harbor Rd",
    "Mill St",
    "Church St",
    "Park Pl",
)
CITIES = (("Riverton", "62701"), ("Bayview", "62704"), ("Millbrook", "62707"), ("Fairhaven", "62711"))
STATE = "IL"
CAREGIVERS = ("daughter", "son", "wife", "husband", "niece", "neighbor", "sister", "grandson")

"""Drug classes a question names in everyday words, read as their member ingredients (issue 27).

"Is he on a blood thinner?" names no drug, so no row's display could name it: a class question was
answered with whatever matched "blood" (a blood pressure reading). Here each class phrase is read as
one class token whose alternatives are the ingredient names of its members, as RxNorm displays write
them; a medication row names the class when its display names a member, and a patient with no member
gets "No blood thinner is on record".

Provenance (curated, not fitted to any question): the groups are WHO ATC level-3/4 groups (code
beside each class); the everyday names are MedlinePlus's health-topic and drug-class names (e.g.
"Blood Thinners": anticoagulants and antiplatelet drugs; "Diuretics" also called water pills); the
members are the groups' common US ingredients (INN/USAN, as RxNorm names them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DrugClass:
    token: str  # the one word the class is read as ("bloodthinner")
    phrases: tuple[str, ...]  # what a question says (regular expressions over lower-case text)
    atc: str
    members: tuple[str, ...]


_ANTICOAGULANTS = (
    "warfarin apixaban rivaroxaban dabigatran edoxaban heparin enoxaparin dalteparin fondaparinux"
).split()
_ANTIPLATELETS = "clopidogrel prasugrel ticagrelor aspirin dipyridamole cilostazol".split()
_DIURETICS = (
    "furosemide torsemide bumetanide hydrochlorothiazide chlorthalidone metolazone indapamide "
    "spironolactone eplerenone triamterene amiloride"
).split()
_BETA_BLOCKERS = "metoprolol carvedilol atenolol propranolol bisoprolol labetalol nadolol nebivolol".split()
_ACE_INHIBITORS = "lisinopril enalapril ramipril benazepril captopril quinapril fosinopril".split()
_ARBS = "losartan valsartan irbesartan olmesartan candesartan telmisartan".split()
_CALCIUM_BLOCKERS = "amlodipine nifedipine diltiazem verapamil felodipine".split()

CLASSES: tuple[DrugClass, ...] = (
    DrugClass(
        "bloodthinner",
        (r"blood[\s-]*thinn(?:er|ers|ing)", r"anti[\s-]?coag(?:ulant|ulants|ulation)?s?"),
        "B01AA B01AB B01AC B01AE B01AF",
        (*_ANTICOAGULANTS, *_ANTIPLATELETS),
    ),
    DrugClass("antiplatelet", (r"anti[\s-]?platelets?",), "B01AC", tuple(_ANTIPLATELETS)),
    DrugClass("diuretic", (r"diuretics?", r"water[\s-]*pills?"), "C03", tuple(_DIURETICS)),
    DrugClass("betablocker", (r"beta[\s-]*blockers?",), "C07", tuple(_BETA_BLOCKERS)),
    DrugClass("aceinhibitor", (r"ace[\s-]*inhibitors?",), "C09A C09B", tuple(_ACE_INHIBITORS)),
    DrugClass(
        "arb",
        (r"\barbs?\b", r"angiotensin[\s-]+(?:ii[\s-]+)?receptor[\s-]+blockers?"),
        "C09C C09D",
        tuple(_ARBS),
    ),
    DrugClass(
        "antihypertensive",
        (
            r"anti[\s-]?hypertensives?",
            r"(?:blood[\s-]*pressure|bp)[\s-]+(?:medicines?|medications?|meds|pills?|drugs?|tablets?)",
        ),
        "C02 C03 C07 C08 C09",
        (
            *_DIURETICS,
            *_BETA_BLOCKERS,
            *_ACE_INHIBITORS,
            *_ARBS,
            *_CALCIUM_BLOCKERS,
            "hydralazine",
            "clonidine",
        ),
    ),
    DrugClass(
        "statin",
        (r"statins?", r"cholesterol[\s-]+(?:medicines?|medications?|meds|pills?|drugs?)"),
        "C10AA",
        tuple(
            "atorvastatin simvastatin rosuvastatin pravastatin lovastatin pitavastatin fluvastatin".split()
        ),
    ),
    DrugClass(
        "antidiabetic",
        (
            r"(?:diabetes|diabetic|sugar)[\s-]+(?:medicines?|medications?|meds|pills?|drugs?)",
            r"anti[\s-]?diabetics?",
        ),
        "A10",
        tuple(
            "metformin insulin glipizide glyburide glimepiride sitagliptin linagliptin saxagliptin "
            "empagliflozin dapagliflozin canagliflozin liraglutide semaglutide dulaglutide exenatide "
            "pioglitazone".split()
        ),
    ),
    DrugClass(
        "inhalerclass",
        (r"inhalers?",),
        "R03",
        tuple(
            "inhaler inhalation albuterol levalbuterol ipratropium tiotropium umeclidinium fluticasone "
            "budesonide beclomethasone mometasone salmeterol formoterol vilanterol".split()
        ),
    ),
    DrugClass(
        "steroid",
        (r"(?:cortico)?steroids?",),
        "H02AB",
        tuple("prednisone prednisolone methylprednisolone dexamethasone hydrocortisone cortisone".split()),
    ),
    DrugClass(
        "antibiotic",
        (r"anti[\s-]?biotics?", r"\babx\b"),
        "J01",
        tuple(
            "amoxicillin ampicillin penicillin cephalexin cefuroxime ceftriaxone cefdinir cefazolin "
            "azithromycin clarithromycin erythromycin doxycycline minocycline ciprofloxacin levofloxacin "
            "moxifloxacin nitrofurantoin sulfamethoxazole trimethoprim clindamycin metronidazole "
            "vancomycin linezolid clavulanate piperacillin".split()
        ),
    ),
    DrugClass(
        "antidepressant",
        (r"anti[\s-]?depressants?",),
        "N06A",
        tuple(
            "sertraline fluoxetine citalopram escitalopram paroxetine bupropion venlafaxine desvenlafaxine "
            "duloxetine mirtazapine trazodone amitriptyline nortriptyline".split()
        ),
    ),
    DrugClass(
        "opioid",
        (r"opioids?", r"opiates?", r"narcotics?"),
        "N02A",
        tuple(
            "oxycodone hydrocodone morphine tramadol fentanyl hydromorphone codeine methadone "
            "buprenorphine tapentadol".split()
        ),
    ),
    DrugClass(
        "antipsychotic",
        (r"anti[\s-]?psychotics?",),
        "N05A",
        tuple(
            "quetiapine olanzapine risperidone aripiprazole haloperidol ziprasidone lurasidone clozapine".split()
        ),
    ),
    DrugClass(
        "contraceptive",
        (r"birth[\s-]+control", r"contraceptives?", r"contraception"),
        "G03A",
        tuple(
            "ethinyl estradiol norethindrone levonorgestrel drospirenone norgestimate desogestrel "
            "etonogestrel medroxyprogesterone".split()
        ),
    ),
)
BY_TOKEN: dict[str, DrugClass] = {c.token: c for c in CLASSES}
# Longest phrases first, so "blood pressure medicines" is one class before "blood" is read alone.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b(?:{p})\b"), c.token) for c in CLASSES for p in sorted(c.phrases, key=len, reverse=True)
)


def read_classes(lowered: str) -> str:
    """``lowered`` with each class phrase replaced by its class token (the antihypertensive phrases
    are tried first: "blood pressure meds" is that class, not a blood pressure reading)."""
    ordered = sorted(_PHRASES, key=lambda pair: pair[1] != "antihypertensive")
    for pattern, token in ordered:
        lowered = pattern.sub(token, lowered)
    return lowered


def members(token: str) -> tuple[str, ...]:
    found = BY_TOKEN.get(token)
    return found.members if found is not None else ()

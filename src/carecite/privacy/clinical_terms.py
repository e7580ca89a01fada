"""Words that look like names to spaCy but are clinical vocabulary.

The small spaCy model tags eponyms ("Foley", "Parkinson"), brand-name drugs ("Eliquis") and labs
("Hemoglobin A1c") as PERSON. A PERSON span from the NER model is dropped when every word in it is
listed here, when it is followed by a word that makes it an eponym ("Crohn disease", "Tinel sign"), or
when a dose follows it ("Zoloft 50 mg"). Names found by a title, a label or Synthea's digit pattern
are never dropped: the context already vouches for them.
"""

from __future__ import annotations

import re

EPONYMS = frozenset(
    """
    addison alzheimer apgar babinski baker barrett bartholin bell berg billroth brudzinski burkitt chvostek
    colles crohn cushing doppler down dupuytren epley ewing foley gleason glasgow gram graves guillain barre
    hashimoto heimlich hodgkin holter homan huntington jackson pratt kaposi kawasaki kernig lachman
    mcmurray meniere nissen paget pap parkinson phalen raynaud romberg roux sjogren swan ganz tinel tourette
    trendelenburg valsalva whipple wilms wilson wernicke korsakoff hartmann murphy mallory weiss
    cheyne stokes kussmaul kehr kocher pfannenstiel seldinger hickman broviac tenckhoff xeroform
    """.split()
)

DRUGS = frozenset(
    """
    acetaminophen tylenol ibuprofen motrin advil naproxen aleve aspirin lisinopril metoprolol lopressor toprol
    amlodipine norvasc losartan cozaar hydrochlorothiazide furosemide lasix spironolactone aldactone
    atorvastatin lipitor simvastatin zocor rosuvastatin crestor pravastatin metformin glucophage insulin
    glargine lantus lispro humalog aspart novolog levemir ozempic semaglutide trulicity jardiance
    farxiga januvia glipizide warfarin coumadin apixaban eliquis rivaroxaban xarelto dabigatran pradaxa
    clopidogrel plavix heparin enoxaparin lovenox levothyroxine synthroid omeprazole prilosec pantoprazole
    protonix famotidine pepcid sertraline zoloft fluoxetine prozac citalopram celexa escitalopram lexapro
    trazodone bupropion wellbutrin duloxetine cymbalta venlafaxine effexor gabapentin neurontin
    pregabalin lyrica prednisone solumedrol methylprednisolone dexamethasone decadron albuterol
    proventil ventolin advair symbicort spiriva tiotropium montelukast singulair amoxicillin augmentin
    azithromycin zithromax ciprofloxacin cipro levofloxacin levaquin doxycycline cephalexin keflex
    ceftriaxone rocephin vancomycin zosyn bactrim nitrofurantoin macrobid clindamycin flagyl
    metronidazole oxycodone percocet hydrocodone norco vicodin morphine dilaudid hydromorphone tramadol
    fentanyl naloxone narcan lorazepam ativan alprazolam xanax clonazepam klonopin diazepam valium
    zolpidem ambien quetiapine seroquel olanzapine zyprexa risperidone risperdal haloperidol haldol
    aripiprazole abilify lithium lamotrigine lamictal levetiracetam keppra phenytoin dilantin
    donepezil aricept memantine namenda carbidopa levodopa sinemet tamsulosin flomax finasteride
    allopurinol colchicine digoxin amiodarone diltiazem cardizem carvedilol coreg hydralazine
    nitroglycerin isosorbide entresto sacubitril infliximab remicade humira adalimumab methotrexate
    plaquenil hydroxychloroquine ondansetron zofran promethazine phenergan docusate colace senna
    miralax lactulose potassium magnesium calcium vitamin ferrous folic thiamine cyanocobalamin
    """.split()
)

LABS_AND_TERMS = frozenset(
    """
    hemoglobin hematocrit a1c hba1c platelets creatinine bun sodium potassium chloride bicarbonate glucose
    albumin bilirubin alt ast inr ptt troponin bnp tsh ldl hdl triglycerides ferritin lipase amylase
    lactate procalcitonin urinalysis culture cbc bmp cmp ekg ecg echo mri ct cxr xray x-ray ultrasound
    patient history physical exam assessment plan subjective objective impression diagnosis
    chief complaint medications allergies vitals review systems
    """.split()
)

# The words of RxNorm's dose forms (TTY=DF: "Metered Dose Inhaler", "Extended Release Oral Tablet",
# "Prefilled Syringe"...) and its strength units: spaCy's small model calls "Dose Inhaler" a person.
RXNORM_DOSE_FORM_WORDS = frozenset(
    """
    actuat auto autoinjector buccal capsule cartridge chewable coated cream delayed disintegrating dose
    drops dry elixir emulsion enema enteric extended film foam gel granules gum hr implant inhalant
    inhalation inhaler injectable injection injector intrauterine irrigation jelly jet kit lotion lozenge
    medicated metered mouthwash mucosal nasal ointment ophthalmic oral otic pack paste patch pellet pen
    powder prefilled release ring rectal shampoo solution spray sublingual suppository suspension
    sustained syringe syrup system tablet topical transdermal unt vaginal wafer
    """.split()
)

CLINICAL_WORDS = EPONYMS | DRUGS | LABS_AND_TERMS | RXNORM_DOSE_FORM_WORDS

# Words that, following a capitalised word, make it an eponym or a product rather than a person.
_EPONYM_FOLLOWERS = (
    r"disease|syndrome|sign|signs|test|maneuver|manoeuvre|procedure|operation|catheter|drain|tube|"
    r"lymphoma|sarcoma|tumou?r|palsy|esophagus|oesophagus|fracture|thyroiditis|dementia|score|scale|"
    r"monitor|fundoplication|stain|criteria|classification|reflex|phenomenon|ulcer|dressing|"
    r"line|needle|position|respiration|repair|anastomosis|pouch|node|cells?|body|bodies|"
    r"encephalopathy|contracture|neuroma|cyst|disorder|index|mg|mcg|units?"
)
EPONYM_FOLLOWER = re.compile(rf"^(?:'s)?[\s-]+(?:{_EPONYM_FOLLOWERS})\b", re.IGNORECASE)
DOSE_FOLLOWER = re.compile(r"^\s+(?:[A-Z]{2,3}\s+)?\d+(?:\.\d+)?\s*(?:mg|mcg|g|units?|mL|%|tablets?)\b", re.I)

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


# A name word: capitalised ("Kim", "O'Connor", "Al-Sayed"), all caps ("SMITH"), or Synthea's "Alvin56".
_NAME_WORD = re.compile(
    r"^(?:[A-Z][a-z'’.-]*[a-z.]\d{0,4}|[A-Z][A-Z'’-]+|[A-Z]\.?|(?:Mc|Mac|O')[A-Z][a-z]+)$"
)


def is_clinical_term(span_text: str, following_text: str) -> bool:
    """True when an NER 'PERSON' span is clinical vocabulary, or not shaped like a name at all."""
    if not all(_NAME_WORD.match(w) for w in span_text.split()):
        return True  # "bradykinesia", "G2P1", "A1c": spaCy's small model calls these people
    words = [w.lower() for w in _WORD.findall(span_text)]
    if words and all(w in CLINICAL_WORDS or w.rstrip("s") in CLINICAL_WORDS for w in words):
        return True
    return bool(EPONYM_FOLLOWER.match(following_text) or DOSE_FOLLOWER.match(following_text))

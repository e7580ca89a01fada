"""The world: facilities, clinicians and users (fixed), and N patients generated lazily.

Patient ``i`` depends only on (seed, i): ``World.patient(i)`` can be generated in any order, in
any process, and always comes out byte-identical, which is what lets 5,000 patients stream to
disk in constant memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from carecite.synth import stories as st
from carecite.synth import vocab as v
from carecite.synth.model import NAMESPACE, Builder, JsonObj, PatientRecord
from carecite.synth.notes import chance, pick

GENERATOR_VERSION = "1.0.0"
AS_OF = date(2026, 11, 20)
DIRECTORY_BASE = "https://fhir.carecite.example"

Story = Callable[[st.Ctx], None]
STORYLINES: dict[str, tuple[tuple[str, Story], ...]] = {
    "hospital": (("heart_failure", st.heart_failure), ("copd", st.copd), ("hip_fracture", st.hip_fracture)),
    "primary": (
        ("diabetes", st.diabetes),
        ("diabetes", st.diabetes),
        ("copd", st.copd),
        ("heart_failure", st.heart_failure),
        ("diabetes", st.diabetes),
    ),
    "cardiology": (("heart_failure", st.heart_failure), ("afib", st.afib)),
}


@dataclass(frozen=True)
class World:
    seed: int
    patients: int
    as_of: date = AS_OF

    @property
    def users(self) -> tuple[v.UserDef, ...]:
        return v.USERS

    def users_json(self) -> list[dict[str, object]]:
        return [u.as_json() for u in v.USERS]

    def iter_patients(self) -> Iterator[PatientRecord]:
        for i in range(self.patients):
            yield self.patient(i)

    def patient(self, index: int) -> PatientRecord:
        if not 0 <= index < self.patients:
            raise IndexError(f"patient index {index} outside 0..{self.patients - 1}")
        return make_patient(self.seed, index, self.as_of)

    def directory_bundle(self) -> JsonObj:
        """Organizations and Practitioners, shared by every patient bundle (referenced as Type/id)."""
        entries: list[JsonObj] = []
        for f in v.FACILITIES:
            entries.append(_entry(_organization(f)))
        for c in v.CLINICIANS:
            entries.append(_entry(_practitioner(c)))
        return {
            "resourceType": "Bundle",
            "id": str(uuid.uuid5(NAMESPACE, f"{self.seed}/directory")),
            "type": "transaction",
            "entry": entries,
        }


def generate_world(patients: int, seed: int, as_of: date = AS_OF) -> World:
    """The world for ``seed``. Cheap: patients are generated when iterated."""
    if patients < 1:
        raise ValueError("patients must be at least 1")
    return World(seed=seed, patients=patients, as_of=as_of)


# --------------------------------------------------------------------------- directory
def _entry(res: JsonObj) -> JsonObj:
    url = f"{res['resourceType']}/{res['id']}"
    return {"fullUrl": f"{DIRECTORY_BASE}/{url}", "resource": res, "request": {"method": "PUT", "url": url}}


def _organization(f: v.Facility) -> JsonObj:
    kinds = {
        "hospital": ("prov", "Healthcare Provider", "Hospital"),
        "primary": ("prov", "Healthcare Provider", "Primary care clinic"),
        "cardiology": ("prov", "Healthcare Provider", "Cardiology practice"),
        "behavioral": ("prov", "Healthcare Provider", "Behavioral health practice"),
    }
    code, display, text = kinds[f.kind]
    return {
        "resourceType": "Organization",
        "id": f.id,
        "meta": {"tag": [dict(v.SYNTHETIC_TAG)]},
        "identifier": [{"system": "urn:carecite:organization", "value": f.id}],
        "active": True,
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": code,
                        "display": display,
                    }
                ],
                "text": text,
            }
        ],
        "name": f.name,
        "telecom": [{"system": "phone", "value": f"(217) {f.phone}", "use": "work"}],
        "address": [
            {
                "line": [f"{100 + len(f.name) * 7} Main St"],
                "city": f.city,
                "state": v.STATE,
                "postalCode": "62701",
                "country": "US",
            }
        ],
    }


def _practitioner(c: v.Clinician) -> JsonObj:
    identifiers = [{"system": v.NPI_SYSTEM, "value": c.npi}]
    if c.id in v.USER_CLINICIAN_IDS:
        # the carecite user id, so CareTeam membership can be matched by identifier as well as by id
        identifiers.append({"system": v.USER_SYSTEM, "value": c.id})
    name: JsonObj = {"use": "official", "family": c.family, "given": [c.given], "suffix": [c.suffix]}
    if c.prefix:
        name["prefix"] = [c.prefix]
    return {
        "resourceType": "Practitioner",
        "id": c.id,
        "meta": {"tag": [dict(v.SYNTHETIC_TAG)]},
        "identifier": identifiers,
        "active": True,
        "name": [name],
        "telecom": [{"system": "phone", "value": f"(217) {c.facility.phone}", "use": "work"}],
        "qualification": [{"code": {"text": c.role}}],
    }


# --------------------------------------------------------------------------- one patient
def make_patient(seed: int, index: int, as_of: date) -> PatientRecord:
    b = Builder(seed, index, as_of)
    rng = b.rng
    facility = v.FACILITIES[index % len(v.FACILITIES)]
    b.facility = facility
    gender = "female" if rng.random() < 0.52 else "male"
    given = pick(rng, v.GIVEN_F if gender == "female" else v.GIVEN_M)
    family = pick(rng, v.FAMILY)
    age = rng.randint(48, 89)
    birth = date(as_of.year - age, rng.randint(1, 12), rng.randint(1, 28))
    mrn = f"{(seed % 90) + 10:02d}{index:06d}"
    b.patient_name = f"{given} {family}"

    pcp = v.MD_GOMEZ if chance(rng, 0.6) else v.PCP_2
    coordinator = {
        "primary": v.CC_AMY if chance(rng, 0.6) else v.CC_SINEAD,
        "hospital": v.CC_BEN,
        "cardiology": v.CC_CARLA if chance(rng, 0.7) else v.CC_ROSA,
        "behavioral": v.CC_OMAR if chance(rng, 0.7) else v.CC_VANCE,
    }[facility.kind]
    ctx = st.Ctx(
        b,
        given,
        family,
        gender,
        birth,
        mrn,
        facility,
        pcp,
        coordinator,
        bait_budget=1 if index % 10 == 3 else 0,
    )

    extras: set[str] = set()
    if facility.kind == "behavioral":
        storyline = "behavioral_health"
        if chance(rng, 0.5):
            extras.add("sud")
        st.baseline(ctx, ("htn",))
        st.behavioral_health(ctx, primary=True)
    else:
        options = STORYLINES[facility.kind]
        storyline, story = options[(index // len(v.FACILITIES)) % len(options)]
        if storyline == "diabetes" and chance(rng, 0.3):
            extras.add("ckd")
            b.condition("ckd3", as_of - timedelta(days=rng.randint(300, 1500)))
        b.facts.extras = extras
        story(ctx)
        if chance(rng, 0.25) and storyline not in ("afib",):
            extras.add("osa")
            st.sleep_apnea(ctx)
        if facility.kind in ("primary", "hospital") and chance(rng, 0.3):
            extras.add("bh")
            st.behavioral_health(ctx, primary=False)
        if facility.kind in ("primary", "hospital") and chance(rng, 0.15):
            extras.add("sud")
    if "sud" in extras:
        st.substance_use(ctx)
    b.facts.storyline, b.facts.extras = storyline, extras

    _care_teams(ctx, storyline, extras)
    b.resources.insert(0, _patient_resource(b, ctx, rng.randint(0, 9999)))
    return PatientRecord(index, b.patient_id, given, family, gender, birth, facility, b.bundle(), b.facts)


def _care_teams(ctx: st.Ctx, storyline: str, extras: set[str]) -> None:
    b, rng = ctx.b, ctx.rng
    kind = ctx.facility.kind
    members: dict[str, tuple[v.Clinician, str]] = {
        ctx.pcp.id: (ctx.pcp, "Primary care physician"),
        ctx.coordinator.id: (ctx.coordinator, "Care coordinator"),
    }
    for cid, (c, role) in ctx.team.items():
        members.setdefault(cid, (c, role))
    if kind == "primary":
        if chance(rng, 0.5):
            members.setdefault(v.RN_ELI.id, (v.RN_ELI, "Clinic nurse"))
        if storyline == "heart_failure" or chance(rng, 0.12):
            members.setdefault(v.CC_CARLA.id, (v.CC_CARLA, "Cardiology care coordinator"))
        if not ({v.CC_AMY.id, v.MD_GOMEZ.id, v.RN_ELI.id} & members.keys()):
            members[v.RN_ELI.id] = (v.RN_ELI, "Clinic nurse")
    elif kind == "hospital":
        if chance(rng, 0.4):
            members.setdefault(v.RN_DANA.id, (v.RN_DANA, "Transitions nurse"))
    elif kind == "behavioral" and not ({v.BH_HANA.id, v.CC_OMAR.id} & members.keys()):
        members[v.BH_HANA.id] = (v.BH_HANA, "Psychiatrist")
    start = ctx.as_of - timedelta(days=rng.randint(200, 700))
    names = {
        "primary": "Primary care team",
        "hospital": "Transitions of care team",
        "cardiology": "Heart and vascular care team",
        "behavioral": "Behavioral health care team",
    }
    b.careteam(
        [members[k] for k in sorted(members)], "active", start, f"{names[kind]} for {ctx.given} {ctx.family}"
    )
    # Some patients have an older, inactive team listing someone no longer on the active one.
    if chance(rng, 0.15):
        candidates = [
            c for c in (v.CC_AMY, v.RN_ELI, v.MD_GOMEZ, v.CC_CARLA, v.CC_OMAR) if c.id not in members
        ]
        if candidates:
            former = pick(rng, candidates)
            b.careteam(
                [(former, "Care coordinator (former)")],
                "inactive",
                start - timedelta(days=400),
                "Previous care team",
                end=start,
            )


def _patient_resource(b: Builder, ctx: st.Ctx, phone: int) -> JsonObj:
    rng = b.rng
    city, zip_code = pick(rng, v.CITIES)
    res: JsonObj = {
        "resourceType": "Patient",
        "id": b.patient_id,
        "meta": {"tag": [dict(v.SYNTHETIC_TAG)]},
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [{"system": v.V2_0203, "code": "MR", "display": "Medical record number"}],
                    "text": "MRN",
                },
                "system": v.MRN_SYSTEM,
                "value": ctx.mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": ctx.family, "given": [ctx.given]}],
        "telecom": [{"system": "phone", "value": f"(217) 555-{phone:04d}", "use": "home"}],
        "gender": ctx.gender,
        "birthDate": ctx.birth.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [f"{rng.randint(12, 9800)} {pick(rng, v.STREETS)}"],
                "city": city,
                "state": v.STATE,
                "postalCode": zip_code,
                "country": "US",
            }
        ],
        "managingOrganization": {"reference": ctx.facility.ref, "display": ctx.facility.name},
        "generalPractitioner": [{"reference": ctx.pcp.ref, "display": ctx.pcp.display}],
    }
    return res

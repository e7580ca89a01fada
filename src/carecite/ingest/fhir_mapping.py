"""FHIR R4 JSON → SQL record rows. Pure: dicts in, row objects and problems out, no I/O.

Why plain dict walking and not ``fhir.resources``: strict R4 validation rejects real Synthea
output wholesale, and one odd field must cost one resource, not a bundle. Each mapper reads only
the fields carecite uses, through small typed helpers that raise ``MappingError`` naming the
field, so a malformed resource is reported precisely and skipped.

References resolve in this order (``BundleContext.resolve``):
  * ``urn:uuid:`` / ``urn:oid:`` fullUrls of the same bundle;
  * literal ``ResourceType/id`` (also absolute URLs ending in ``ResourceType/id``), across bundles;
  * conditional ``ResourceType?identifier=system|value`` and logical ``{"identifier": …}``
    references, through identifiers declared in this bundle, then the ``Identifier`` table
    (``Directory``). One that cannot be resolved yet is KEPT AS THE CONDITIONAL STRING; the
    ingest's final pass (``fhir.resolve_pending``) rewrites such values once the bundle declaring
    the identifier (e.g. ``hospitalInformation.json``) has been loaded, so bundles load in any order.

Dates are stored naive, as the wall-clock time the source recorded (see ``records/tables.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import unquote

from sqlmodel import SQLModel

from carecite import domain
from carecite.ingest.chunking import CHUNKER_VERSION
from carecite.records import tables as t
from carecite.text.repair import decode_bytes

JsonObj = dict[str, Any]

LOINC = "http://loinc.org"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
V3_SECURITY_SYSTEMS = (
    "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
    "http://hl7.org/fhir/v3/ActCode",
    "http://hl7.org/fhir/v3/Confidentiality",
    "urn:oid:2.16.840.1.113883.5.4",  # ActCode
    "urn:oid:2.16.840.1.113883.5.25",  # Confidentiality
)
# Confidentiality codes that describe the default handling, not a restriction.
UNRESTRICTED_CONFIDENTIALITY = frozenset({"N", "L", "M", "U"})
# Documented extension carrying a note author's role when the source has no Practitioner
# qualification (on the DocumentReference or on its ``author`` reference): valueString or
# valueCodeableConcept.
AUTHOR_ROLE_EXTENSION = "https://carecite.dev/fhir/StructureDefinition/author-role"

# Resource types mapped to rows; everything else is counted as unknown and skipped.
PATIENT_SCOPED = (
    "Encounter",
    "Condition",
    "MedicationRequest",
    "Observation",
    "AllergyIntolerance",
    "Procedure",
    "Immunization",
    "CarePlan",
    "CareTeam",
    "Task",
    "ServiceRequest",
    "Appointment",
    "DocumentReference",
    "DiagnosticReport",
)
KNOWN_TYPES = frozenset({"Patient", "Organization", "Practitioner", *PATIENT_SCOPED})
# Types read for in-bundle look-ups (a MedicationRequest's medicationReference) but not stored.
LOOKUP_ONLY = frozenset({"Medication"})

_REF_RE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_DATETIME_RE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class MappingError(ValueError):
    """A resource that cannot be mapped; the message names the field and what is wrong."""


@dataclass(frozen=True)
class Problem:
    """One reported issue, located precisely enough to find it in the source file."""

    source: str
    index: int | None  # entry index in the bundle (None: the whole file)
    resource_type: str | None
    resource_id: str | None
    message: str

    def where(self) -> str:
        loc = self.source if self.index is None else f"{self.source} entry[{self.index}]"
        if self.resource_type or self.resource_id:
            loc += f" {self.resource_type or '?'}/{self.resource_id or '?'}"
        return loc

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


@dataclass
class MappedRecord:
    """The row(s) one resource becomes. ``children`` replace the parent's previous children."""

    resource_type: str
    row: SQLModel
    content_hash: str
    children: list[SQLModel] = field(default_factory=list)
    patient_id: str | None = None


@dataclass
class BundleMapping:
    source: str
    records: list[MappedRecord] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)  # Identifier.key → ref
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    unknown: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


class Directory(Protocol):
    """What mapping needs to know from outside the bundle (the SQL store, or nothing in tests)."""

    def ref_for_identifier(self, key: str) -> str | None: ...

    def encounter_facility(self, encounter_ref: str) -> str | None: ...

    def patient_managing_org(self, patient_id: str) -> str | None: ...

    def patient_exists(self, patient_id: str) -> bool: ...

    def practitioner(self, ref: str) -> JsonObj | None: ...


class EmptyDirectory:
    """A store that knows nothing: mapping one bundle on its own."""

    def ref_for_identifier(self, key: str) -> str | None:
        return None

    def encounter_facility(self, encounter_ref: str) -> str | None:
        return None

    def patient_managing_org(self, patient_id: str) -> str | None:
        return None

    def patient_exists(self, patient_id: str) -> bool:
        return False

    def practitioner(self, ref: str) -> JsonObj | None:
        return None


# --------------------------------------------------------------------------- small typed helpers
def content_hash(obj: object) -> str:
    """sha256 of canonical JSON (sorted keys, no whitespace): same content, same hash."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def canonical_json(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _type_name(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def get_str(obj: Mapping[str, Any], key: str, path: str = "") -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{path or key} must be a string, got {_type_name(value)}")
    return value


def get_obj(obj: Mapping[str, Any], key: str, path: str = "") -> JsonObj | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MappingError(f"{path or key} must be an object, got {_type_name(value)}")
    return value


def get_list(obj: Mapping[str, Any], key: str, path: str = "") -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{path or key} must be an array, got {_type_name(value)}")
    return value


def get_objs(obj: Mapping[str, Any], key: str, path: str = "") -> list[JsonObj]:
    items = get_list(obj, key, path)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise MappingError(f"{path or key}[{i}] must be an object, got {_type_name(item)}")
    return items


def first_obj(obj: Mapping[str, Any], key: str) -> JsonObj | None:
    items = get_objs(obj, key)
    return items[0] if items else None


def get_number(obj: Mapping[str, Any], key: str, path: str = "") -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MappingError(f"{path or key} must be a number, got {_type_name(value)}")
    return float(value)


def parse_datetime(value: str, path: str) -> datetime:
    """FHIR date/dateTime/instant → naive wall-clock datetime (partial dates → first day)."""
    m = _DATETIME_RE.match(value.strip())
    if not m:
        raise MappingError(f"{path} is not a FHIR date/dateTime: {value!r}")
    year, month, day, hh, mm, ss, _tz = m.groups()
    try:
        return datetime(int(year), int(month or 1), int(day or 1), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError as exc:
        raise MappingError(f"{path} is not a valid date: {value!r} ({exc})") from None


def get_datetime(obj: Mapping[str, Any], key: str, path: str = "") -> datetime | None:
    value = get_str(obj, key, path)
    return parse_datetime(value, path or key) if value else None


def get_date(obj: Mapping[str, Any], key: str, path: str = "") -> date | None:
    value = get_datetime(obj, key, path)
    return value.date() if value else None


def period_start(obj: Mapping[str, Any], key: str) -> datetime | None:
    period = get_obj(obj, key)
    return get_datetime(period, "start", f"{key}.start") if period else None


def period_end(obj: Mapping[str, Any], key: str) -> datetime | None:
    period = get_obj(obj, key)
    return get_datetime(period, "end", f"{key}.end") if period else None


def codings(cc: JsonObj | None, path: str) -> list[JsonObj]:
    return get_objs(cc, "coding", f"{path}.coding") if cc else []


def cc_code_display(
    cc: JsonObj | None, path: str, prefer_system: str | None = None
) -> tuple[str | None, str | None]:
    """(code, display) of a CodeableConcept: the preferred system's coding, else the first."""
    if not cc:
        return None, None
    cs = codings(cc, path)
    chosen = next(
        (c for c in cs if prefer_system and c.get("system") == prefer_system), cs[0] if cs else None
    )
    code = get_str(chosen, "code", f"{path}.coding.code") if chosen else None
    display = get_str(chosen, "display", f"{path}.coding.display") if chosen else None
    text = get_str(cc, "text", f"{path}.text")
    if prefer_system and chosen is not None and chosen.get("system") == prefer_system:
        return code, display or text or code
    return code, text or display or code


def cc_text(cc: JsonObj | None, path: str) -> str | None:
    return cc_code_display(cc, path)[1]


def ccs_text(obj: Mapping[str, Any], key: str, sep: str = "; ") -> str | None:
    parts = [cc_text(cc, f"{key}[{i}]") for i, cc in enumerate(get_objs(obj, key))]
    joined = sep.join(dict.fromkeys(p for p in parts if p))
    return joined or None


def annotations_text(obj: Mapping[str, Any], key: str = "note") -> str | None:
    texts = [get_str(n, "text", f"{key}[{i}].text") for i, n in enumerate(get_objs(obj, key))]
    joined = "\n".join(x for x in texts if x)
    return joined or None


def ref_display(ref: JsonObj | None, path: str) -> str | None:
    return get_str(ref, "display", f"{path}.display") if ref else None


def security_labels(codes: Iterable[JsonObj], path: str) -> tuple[tuple[str, ...], list[str]]:
    """Restricting label codes, plus warnings for codes mapped to "R".

    Codes in ``domain.SENSITIVE_LABELS`` are kept. Confidentiality N/L/M/U are not restrictions.
    Any other code from the v3 ActCode / Confidentiality systems, or a code with no system, is
    mapped to "R" (fail closed): a label we do not understand must hide the source, not expose it.
    Codes from other systems (e.g. v3-ObservationValue integrity tags such as HTEST) are not
    sensitivity labels and are ignored.
    """
    labels: set[str] = set()
    warnings: list[str] = []
    for i, coding in enumerate(codes):
        code = get_str(coding, "code", f"{path}[{i}].code")
        system = get_str(coding, "system", f"{path}[{i}].system")
        if not code:
            continue
        if code in domain.SENSITIVE_LABELS:
            labels.add(code)
        elif code in UNRESTRICTED_CONFIDENTIALITY and (system is None or system in V3_SECURITY_SYSTEMS):
            continue
        elif system is None or system in V3_SECURITY_SYSTEMS:
            labels.add("R")
            warnings.append(
                f"security label {system or '(no system)'}|{code} is not known: stored as R (restricted)"
            )
    return tuple(sorted(labels)), warnings


def identifier_pairs(resource: JsonObj) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for i, ident in enumerate(get_objs(resource, "identifier")):
        value = get_str(ident, "value", f"identifier[{i}].value")
        if value:
            pairs.append((get_str(ident, "system", f"identifier[{i}].system") or "", value))
    return pairs


def identifier_key(resource_type: str, system: str, value: str) -> str:
    return f"{resource_type}|{system}|{value}"


def human_name(resource: JsonObj) -> tuple[str, str, str]:
    """(display, given, family) of the official (else first) HumanName."""
    names = get_objs(resource, "name")
    if not names:
        return "", "", ""
    name = next((n for n in names if n.get("use") == "official"), names[0])
    given = " ".join(str(g) for g in get_list(name, "given", "name.given") if isinstance(g, str))
    family = get_str(name, "family", "name.family") or ""
    prefix = " ".join(str(p) for p in get_list(name, "prefix", "name.prefix") if isinstance(p, str))
    text = get_str(name, "text", "name.text")
    display = text or " ".join(x for x in (prefix, given, family) if x)
    return display, given, family


def one_line_address(resource: JsonObj) -> str | None:
    addresses = get_objs(resource, "address")
    if not addresses:
        return None
    a = addresses[0]
    if text := get_str(a, "text", "address.text"):
        return text
    lines = [str(x) for x in get_list(a, "line", "address.line") if isinstance(x, str)]
    city_state = " ".join(
        x for x in (get_str(a, "state", "address.state"), get_str(a, "postalCode", "address.postalCode")) if x
    )
    parts = [*lines, get_str(a, "city", "address.city"), city_state, get_str(a, "country", "address.country")]
    return ", ".join(p for p in parts if p) or None


def telecom(resource: JsonObj, system: str) -> str | None:
    for i, tc in enumerate(get_objs(resource, "telecom")):
        if tc.get("system") == system:
            return get_str(tc, "value", f"telecom[{i}].value")
    return None


def decode_attachment(att: JsonObj, path: str) -> str | None:
    """Decoded text of a text/* attachment with inline data; None for other attachments."""
    content_type = get_str(att, "contentType", f"{path}.contentType") or ""
    data = get_str(att, "data", f"{path}.data")
    if not data or not content_type.lower().startswith("text/plain"):
        return None
    charset = "utf-8"
    if m := re.search(r"charset=([\w\-]+)", content_type, re.IGNORECASE):
        charset = m.group(1)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise MappingError(f"{path}.data is not valid base64") from None
    try:
        text = decode_bytes(raw, charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise MappingError(f"{path}.data does not decode as {charset}: {exc}") from None
    # Normalise line endings: Note.text is what citation spans index into and what the UI shows.
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- bundle context
class BundleContext:
    """Everything known while mapping one bundle: its fullUrls and resources, plus the store."""

    def __init__(self, resources: list[tuple[str | None, JsonObj]], directory: Directory) -> None:
        self.directory = directory
        self.full_urls: dict[str, str] = {}
        self.by_ref: dict[str, JsonObj] = {}
        self.identifiers: dict[str, str] = {}
        self.superseded_reports: dict[str, str] = {}  # DiagnosticReport ref → DocumentReference ref
        for full_url, res in resources:
            rtype, rid = res.get("resourceType"), res.get("id")
            if not (isinstance(rtype, str) and isinstance(rid, str) and rid):
                continue
            ref = f"{rtype}/{rid}"
            self.by_ref.setdefault(ref, res)
            if full_url:
                self.full_urls[full_url] = ref
            if rtype in ("Organization", "Practitioner", "Patient"):
                try:
                    for system, value in identifier_pairs(res):
                        self.identifiers[identifier_key(rtype, system, value)] = ref
                except MappingError:
                    pass  # reported when the resource itself is mapped
        # Synthea writes each clinical note twice: a DiagnosticReport (presentedForm) and a
        # DocumentReference whose identifier is the report's urn:uuid. Keep one note: the
        # DocumentReference (it carries type, author, custodian, security labels).
        for ref, res in self.by_ref.items():
            if not ref.startswith("DocumentReference/"):
                continue
            for ident in res.get("identifier") or []:
                ident_value = ident.get("value") if isinstance(ident, dict) else None
                target = self.full_urls.get(ident_value) if isinstance(ident_value, str) else None
                if target and target.startswith("DiagnosticReport/"):
                    self.superseded_reports[target] = ref

    # -- references
    def resolve(self, ref: JsonObj | None, path: str) -> str | None:
        """A Reference → "Type/id", a pending conditional string, or None (absent/contained)."""
        if ref is None:
            return None
        reference = get_str(ref, "reference", f"{path}.reference")
        if reference is None:
            ident = get_obj(ref, "identifier", f"{path}.identifier")
            rtype = get_str(ref, "type", f"{path}.type")
            if ident and rtype:
                value = get_str(ident, "value", f"{path}.identifier.value")
                if value:
                    system = get_str(ident, "system", f"{path}.identifier.system") or ""
                    return self._conditional(rtype, system, value)
            return None
        return self.resolve_string(reference)

    def resolve_string(self, reference: str) -> str | None:
        if reference.startswith("#"):
            return None  # contained resource: not stored on its own
        if reference.startswith(("urn:uuid:", "urn:oid:")):
            if reference in self.full_urls:
                return self.full_urls[reference]
            # Outside this bundle: Synthea ids equal the uuid, so a known Patient still resolves.
            rid = reference.rsplit(":", 1)[-1]
            return f"Patient/{rid}" if self.directory.patient_exists(rid) else None
        if reference in self.full_urls:  # absolute fullUrls of searchset bundles
            return self.full_urls[reference]
        if "?" in reference:
            rtype, _, query = reference.partition("?")
            rtype = rtype.rsplit("/", 1)[-1]
            params = dict(p.partition("=")[::2] for p in query.split("&"))
            ident = unquote(params.get("identifier", ""))
            if not ident:
                return reference
            system, sep, value = ident.rpartition("|")
            return self._conditional(rtype, system if sep else "", value)
        m = _REF_RE.search(reference)
        return f"{m.group(1)}/{m.group(2)}" if m else None

    def _conditional(self, rtype: str, system: str, value: str) -> str:
        key = identifier_key(rtype, system, value)
        found = self.identifiers.get(key) or self.directory.ref_for_identifier(key)
        if found:
            return found
        return f"{rtype}?identifier={system}|{value}" if system else f"{rtype}?identifier={value}"

    def resource(self, ref: str | None) -> JsonObj | None:
        return self.by_ref.get(ref) if ref else None

    # -- facility
    def encounter_facility(self, encounter_ref: str | None) -> str | None:
        if not encounter_ref:
            return None
        enc = self.resource(encounter_ref)
        if enc is not None:
            return org_only(self.resolve(get_obj(enc, "serviceProvider"), "encounter.serviceProvider"))
        return self.directory.encounter_facility(encounter_ref)

    def patient_org(self, patient_id: str) -> str | None:
        pat = self.resource(f"Patient/{patient_id}")
        if pat is not None:
            return org_only(
                self.resolve(get_obj(pat, "managingOrganization"), "patient.managingOrganization")
            )
        return self.directory.patient_managing_org(patient_id)

    def facility(self, own_org: str | None, encounter_ref: str | None, patient_id: str | None) -> str | None:
        """The resource's own organization, else its encounter's serviceProvider, else the
        patient's managing organization."""
        return (
            org_only(own_org)
            or self.encounter_facility(encounter_ref)
            or (self.patient_org(patient_id) if patient_id else None)
        )

    def practitioner(self, ref: str | None) -> JsonObj | None:
        if not ref or not ref.startswith("Practitioner/"):
            return None
        return self.resource(ref) or self.directory.practitioner(ref)


def org_only(ref: str | None) -> str | None:
    return ref if ref and ref.startswith("Organization") else None


def is_pending(ref: str | None) -> bool:
    return bool(ref) and "?identifier=" in (ref or "")


# --------------------------------------------------------------------------- per-type mappers
@dataclass
class _Common:
    """Fields every patient-scoped row shares, read once."""

    rtype: str
    rid: str
    ref: str
    patient_id: str
    patient_key: str
    encounter_ref: str | None
    labels: tuple[str, ...]
    raw: str
    hash: str


def _patient_id(resource: JsonObj, ctx: BundleContext) -> str:
    rtype = resource["resourceType"]
    if rtype in ("AllergyIntolerance", "Immunization"):
        keys = ["patient", "subject"]
    elif rtype == "Task":
        keys = ["for", "subject"]
    else:
        keys = ["subject", "patient"]
    for key in keys:
        ref_obj = get_obj(resource, key)
        if ref_obj is None:
            continue
        resolved = ctx.resolve(ref_obj, key)
        if resolved and resolved.startswith("Patient/"):
            return resolved.split("/", 1)[1]
        if resolved and is_pending(resolved):
            raise MappingError(f"{key} {resolved!r} does not match any known Patient identifier")
        raise MappingError(
            f"{key} does not reference a Patient in this bundle or the store: {ref_obj.get('reference')!r}"
        )
    if rtype == "Appointment":
        for i, part in enumerate(get_objs(resource, "participant")):
            resolved = ctx.resolve(
                get_obj(part, "actor", f"participant[{i}].actor"), f"participant[{i}].actor"
            )
            if resolved and resolved.startswith("Patient/"):
                return resolved.split("/", 1)[1]
        raise MappingError("no participant.actor references a Patient")
    raise MappingError(f"missing {keys[0]} (a {rtype} must reference its Patient)")


def _encounter_ref(resource: JsonObj, ctx: BundleContext) -> str | None:
    if resource["resourceType"] == "DocumentReference":
        context = get_obj(resource, "context")
        encs = get_objs(context, "encounter", "context.encounter") if context else []
        return ctx.resolve(encs[0], "context.encounter[0]") if encs else None
    key = "context" if resource["resourceType"] == "MedicationAdministration" else "encounter"
    enc = ctx.resolve(get_obj(resource, key), key)
    return enc if enc and enc.startswith("Encounter") else None


def _common(resource: JsonObj, ctx: BundleContext, warnings: list[str]) -> _Common:
    rtype, rid = resource["resourceType"], resource["id"]
    patient_id = _patient_id(resource, ctx)
    meta = get_obj(resource, "meta") or {}
    codes = get_objs(meta, "security", "meta.security")
    if rtype == "DocumentReference":
        for i, cc in enumerate(get_objs(resource, "securityLabel")):
            codes = [*codes, *codings(cc, f"securityLabel[{i}]")]
    labels, label_warnings = security_labels(codes, "meta.security")
    warnings.extend(label_warnings)
    return _Common(
        rtype=rtype,
        rid=rid,
        ref=f"{rtype}/{rid}",
        patient_id=patient_id,
        patient_key=domain.patient_key_for(patient_id),
        encounter_ref=_encounter_ref(resource, ctx),
        labels=labels,
        raw=canonical_json(resource),
        hash=content_hash(resource),
    )


def _base(
    c: _Common, facility: str | None, status: str | None, code: str | None, display: str | None
) -> JsonObj:
    return {
        "ref": c.ref,
        "fhir_id": c.rid,
        "patient_key": c.patient_key,
        "facility": facility,
        "encounter_ref": c.encounter_ref,
        "status": status,
        "code": code,
        "display": display,
        "security_labels": t.labels_to_str(c.labels),
        "content_hash": c.hash,
        "raw": c.raw,
    }


def _first_datetime(resource: JsonObj, *keys: str) -> datetime | None:
    """The first present of several choice[x] date fields (dateTime, Period.start, instant)."""
    for key in keys:
        if key.endswith("Period"):
            value = period_start(resource, key)
        elif key.endswith("Timing"):
            timing = get_obj(resource, key)
            events = get_list(timing, "event", f"{key}.event") if timing else []
            value = (
                parse_datetime(events[0], f"{key}.event[0]")
                if events and isinstance(events[0], str)
                else None
            )
        else:
            value = get_datetime(resource, key)
        if value:
            return value
    return None


def _status_code(resource: JsonObj, key: str) -> str | None:
    code, _ = cc_code_display(get_obj(resource, key), key)
    return code


def _reasons(resource: JsonObj, ctx: BundleContext) -> str | None:
    parts = [cc_text(cc, f"reasonCode[{i}]") for i, cc in enumerate(get_objs(resource, "reasonCode"))]
    for i, ref in enumerate(get_objs(resource, "reasonReference")):
        target = ctx.resource(ctx.resolve(ref, f"reasonReference[{i}]"))
        display = ref_display(ref, f"reasonReference[{i}]")
        if not display and target is not None:
            display = cc_text(get_obj(target, "code"), "reasonReference.code")
        parts.append(display)
    joined = "; ".join(dict.fromkeys(p for p in parts if p))
    return joined or None


def _person_display(ref: JsonObj | None, path: str, ctx: BundleContext) -> str | None:
    if ref is None:
        return None
    if display := ref_display(ref, path):
        return display
    target = ctx.resource(ctx.resolve(ref, path)) or ctx.practitioner(ctx.resolve(ref, path))
    if target is not None:
        if target.get("resourceType") == "Organization":
            return get_str(target, "name", f"{path}.name")
        return human_name(target)[0] or None
    return None


def map_encounter(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(first_obj(r, "type"), "type[0]")
    klass = get_obj(r, "class")
    own = ctx.resolve(get_obj(r, "serviceProvider"), "serviceProvider")
    practitioners = [
        _person_display(
            get_obj(p, "individual", f"participant[{i}].individual"), f"participant[{i}].individual", ctx
        )
        for i, p in enumerate(get_objs(r, "participant"))
    ]
    row = t.Encounter(
        **_base(c, ctx.facility(own, None, c.patient_id), get_str(r, "status"), code, display),
        class_code=get_str(klass, "code", "class.code") if klass else None,
        start=period_start(r, "period"),
        end=period_end(r, "period"),
        reason=_reasons(r, ctx),
        practitioner="; ".join(p for p in practitioners if p) or None,
    )
    return MappedRecord("Encounter", row, c.hash, patient_id=c.patient_id)


def map_condition(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(get_obj(r, "code"), "code")
    clinical = _status_code(r, "clinicalStatus")
    row = t.Condition(
        **_base(c, ctx.facility(None, c.encounter_ref, c.patient_id), clinical, code, display),
        clinical_status=clinical,
        onset=_first_datetime(r, "onsetDateTime", "onsetPeriod"),
        abatement=_first_datetime(r, "abatementDateTime", "abatementPeriod"),
        recorded=get_datetime(r, "recordedDate"),
    )
    return MappedRecord("Condition", row, c.hash, patient_id=c.patient_id)


def _dosage(r: JsonObj) -> str | None:
    texts: list[str] = []
    for i, d in enumerate(get_objs(r, "dosageInstruction")):
        if text := get_str(d, "text", f"dosageInstruction[{i}].text"):
            texts.append(text)
            continue
        parts: list[str] = []
        for j, dr in enumerate(get_objs(d, "doseAndRate", f"dosageInstruction[{i}].doseAndRate")):
            q = get_obj(dr, "doseQuantity", f"dosageInstruction[{i}].doseAndRate[{j}].doseQuantity")
            if q and (v := get_number(q, "value", "doseQuantity.value")) is not None:
                parts.append(f"{v:g} {get_str(q, 'unit', 'doseQuantity.unit') or ''}".strip())
        timing = get_obj(d, "timing", f"dosageInstruction[{i}].timing")
        rep = get_obj(timing, "repeat", "timing.repeat") if timing else None
        if rep:
            freq, per = (
                get_number(rep, "frequency", "repeat.frequency"),
                get_number(rep, "period", "repeat.period"),
            )
            unit = get_str(rep, "periodUnit", "repeat.periodUnit")
            if freq and per and unit:
                parts.append(f"{freq:g} time(s) per {per:g} {unit}")
        if d.get("asNeededBoolean") is True:
            parts.append("as needed")
        if parts:
            texts.append(", ".join(parts))
    return "; ".join(texts) or None


def map_medication_request(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(
        get_obj(r, "medicationCodeableConcept"), "medicationCodeableConcept", None
    )
    med_ref = get_obj(r, "medicationReference")
    if med_ref and not display:
        display = ref_display(med_ref, "medicationReference")
        target = ctx.resource(ctx.resolve(med_ref, "medicationReference"))
        if target is not None:
            code2, display2 = cc_code_display(get_obj(target, "code"), "medicationReference.code")
            code, display = code or code2, display or display2
    row = t.MedicationRequest(
        **_base(c, ctx.facility(None, c.encounter_ref, c.patient_id), get_str(r, "status"), code, display),
        medication=display,
        dosage=_dosage(r),
        authored_on=get_datetime(r, "authoredOn"),
        requester=_person_display(get_obj(r, "requester"), "requester", ctx),
        reason=_reasons(r, ctx),
    )
    return MappedRecord("MedicationRequest", row, c.hash, patient_id=c.patient_id)


def _value(obj: JsonObj, path: str) -> tuple[float | None, str | None, str | None]:
    """(value, unit, value_text) of an Observation or component value[x]."""
    if q := get_obj(obj, "valueQuantity", f"{path}valueQuantity"):
        unit = get_str(q, "unit", f"{path}valueQuantity.unit") or get_str(
            q, "code", f"{path}valueQuantity.code"
        )
        return get_number(q, "value", f"{path}valueQuantity.value"), unit, None
    if cc := get_obj(obj, "valueCodeableConcept", f"{path}valueCodeableConcept"):
        return None, None, cc_text(cc, f"{path}valueCodeableConcept")
    if (s := get_str(obj, "valueString", f"{path}valueString")) is not None:
        return None, None, s
    if (n := get_number(obj, "valueInteger", f"{path}valueInteger")) is not None:
        return n, None, None
    if isinstance(b := obj.get("valueBoolean"), bool):
        return None, None, "yes" if b else "no"
    if (dt := get_str(obj, "valueDateTime", f"{path}valueDateTime")) is not None:
        return None, None, dt
    return None, None, None


def map_observation(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(get_obj(r, "code"), "code", LOINC)
    value, unit, value_text = _value(r, "")
    parts: list[str] = []
    for i, comp in enumerate(get_objs(r, "component")):
        _, cdisplay = cc_code_display(get_obj(comp, "code", f"component[{i}].code"), f"component[{i}].code")
        cv, cu, ct = _value(comp, f"component[{i}].")
        shown = ct if ct is not None else (f"{cv:g} {cu or ''}".strip() if cv is not None else None)
        if cdisplay and shown:
            parts.append(f"{cdisplay}: {shown}")
    if parts:
        value_text = "; ".join([*([value_text] if value_text else []), *parts])
    row = t.Observation(
        **_base(c, ctx.facility(None, c.encounter_ref, c.patient_id), get_str(r, "status"), code, display),
        category=ccs_text(r, "category"),
        value=value,
        value_text=value_text,
        unit=unit,
        effective=_first_datetime(r, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"),
        interpretation=ccs_text(r, "interpretation"),
    )
    return MappedRecord("Observation", row, c.hash, patient_id=c.patient_id)


def map_allergy(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(get_obj(r, "code"), "code")
    row = t.AllergyIntolerance(
        **_base(
            c,
            ctx.facility(None, c.encounter_ref, c.patient_id),
            _status_code(r, "clinicalStatus"),
            code,
            display,
        ),
        criticality=get_str(r, "criticality"),
        recorded=get_datetime(r, "recordedDate"),
    )
    return MappedRecord("AllergyIntolerance", row, c.hash, patient_id=c.patient_id)


def map_procedure(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(get_obj(r, "code"), "code")
    row = t.Procedure(
        **_base(c, ctx.facility(None, c.encounter_ref, c.patient_id), get_str(r, "status"), code, display),
        performed=_first_datetime(r, "performedDateTime", "performedPeriod"),
    )
    return MappedRecord("Procedure", row, c.hash, patient_id=c.patient_id)


def map_immunization(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(get_obj(r, "vaccineCode"), "vaccineCode")
    row = t.Immunization(
        **_base(c, ctx.facility(None, c.encounter_ref, c.patient_id), get_str(r, "status"), code, display),
        occurrence=get_datetime(r, "occurrenceDateTime"),
    )
    return MappedRecord("Immunization", row, c.hash, patient_id=c.patient_id)


def map_careplan(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    cats = get_objs(r, "category")
    # US Core puts the generic "assess-plan" category first; the clinical one says what the plan is.
    clinical = [cc for cc in cats if not any(x.get("code") == "assess-plan" for x in codings(cc, "category"))]
    code, display = cc_code_display(clinical[0] if clinical else None, "category")
    display = get_str(r, "title") or display or get_str(r, "description")
    addresses = []
    for i, ref in enumerate(get_objs(r, "addresses")):
        target = ctx.resource(ctx.resolve(ref, f"addresses[{i}]"))
        addresses.append(
            ref_display(ref, f"addresses[{i}]")
            or (cc_text(get_obj(target, "code"), "addresses.code") if target else None)
        )
    facility = ctx.facility(None, c.encounter_ref, c.patient_id)
    row = t.CarePlan(
        **_base(c, facility, get_str(r, "status"), code, display),
        category=ccs_text({"category": clinical}, "category"),
        period_start=period_start(r, "period"),
        period_end=period_end(r, "period"),
        addresses="; ".join(dict.fromkeys(a for a in addresses if a)) or None,
    )
    children: list[SQLModel] = []
    for n, activity in enumerate(get_objs(r, "activity"), start=1):
        path = f"activity[{n - 1}]"
        detail = get_obj(activity, "detail", f"{path}.detail") or {}
        a_code, a_display = cc_code_display(
            get_obj(detail, "code", f"{path}.detail.code"), f"{path}.detail.code"
        )
        if not a_display:
            a_display = ref_display(get_obj(activity, "reference", f"{path}.reference"), f"{path}.reference")
        if not a_display:
            a_display = get_str(detail, "description", f"{path}.detail.description")
        ahash = content_hash(activity)
        children.append(
            t.CarePlanActivity(
                ref=f"{c.ref}#activity={n}",
                fhir_id=c.rid,
                patient_key=c.patient_key,
                facility=facility,
                encounter_ref=c.encounter_ref,
                status=get_str(detail, "status", f"{path}.detail.status"),
                code=a_code,
                display=a_display,
                security_labels=t.labels_to_str(c.labels),
                content_hash=ahash,
                raw=canonical_json(activity),
                careplan_ref=c.ref,
                index=n,
                scheduled=_first_datetime(detail, "scheduledPeriod", "scheduledTiming"),
                location=ref_display(
                    get_obj(detail, "location", f"{path}.detail.location"), f"{path}.detail.location"
                ),
            )
        )
    return MappedRecord("CarePlan", row, c.hash, children, patient_id=c.patient_id)


def _member_identifier(ref_obj: JsonObj, resolved: str | None, ctx: BundleContext, path: str) -> str | None:
    """An identifier value of the member (NPI preferred) so users can be matched by it."""
    if ident := get_obj(ref_obj, "identifier", f"{path}.identifier"):
        return get_str(ident, "value", f"{path}.identifier.value")
    reference = get_str(ref_obj, "reference", f"{path}.reference") or ""
    if (resolved or reference).startswith("Patient"):
        return None  # patient identifiers live only in Patient
    if "?identifier=" in reference:
        return unquote(reference.split("?identifier=", 1)[1]).rpartition("|")[2] or None
    target = ctx.resource(resolved) or ctx.practitioner(resolved)
    if target is not None:
        pairs = identifier_pairs(target)
        npi = next((v for s, v in pairs if s == NPI_SYSTEM), None)
        return npi or (pairs[0][1] if pairs else None)
    return None


def map_careteam(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(first_obj(r, "reasonCode"), "reasonCode[0]")
    orgs = get_objs(r, "managingOrganization")
    own = ctx.resolve(orgs[0], "managingOrganization[0]") if orgs else None
    row = t.CareTeam(
        **_base(c, ctx.facility(own, c.encounter_ref, c.patient_id), get_str(r, "status"), code, display),
        name=get_str(r, "name"),
        period_start=period_start(r, "period"),
    )
    children: list[SQLModel] = []
    for n, part in enumerate(get_objs(r, "participant"), start=1):
        path = f"participant[{n - 1}]"
        member = get_obj(part, "member", f"{path}.member")
        if member is None:
            continue
        resolved = ctx.resolve(member, f"{path}.member")
        roles = get_objs(part, "role", f"{path}.role")
        children.append(
            t.CareTeamMember(
                id=f"{c.ref}#{n}",
                careteam_ref=c.ref,
                patient_key=c.patient_key,
                member_ref=resolved,
                member_identifier=_member_identifier(member, resolved, ctx, f"{path}.member"),
                role=cc_text(roles[0], f"{path}.role[0]") if roles else None,
                display=_person_display(member, f"{path}.member", ctx),
            )
        )
    return MappedRecord("CareTeam", row, c.hash, children, patient_id=c.patient_id)


def map_task(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(get_obj(r, "code"), "code")
    owner = get_obj(r, "owner")
    restriction = get_obj(r, "restriction") or {}
    row = t.Task(
        **_base(
            c,
            ctx.facility(ctx.resolve(owner, "owner"), c.encounter_ref, c.patient_id),
            get_str(r, "status"),
            code,
            display or get_str(r, "description"),
        ),
        description=get_str(r, "description"),
        priority=get_str(r, "priority"),
        authored_on=get_datetime(r, "authoredOn"),
        last_modified=get_datetime(r, "lastModified"),
        due=period_end(restriction, "period"),
        owner=_person_display(owner, "owner", ctx),
        focus_ref=ctx.resolve(get_obj(r, "focus"), "focus"),
        note=annotations_text(r),
    )
    return MappedRecord("Task", row, c.hash, patient_id=c.patient_id)


def map_service_request(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    code, display = cc_code_display(get_obj(r, "code"), "code")
    requester = get_obj(r, "requester")
    performers = [_person_display(p, f"performer[{i}]", ctx) for i, p in enumerate(get_objs(r, "performer"))]
    row = t.ServiceRequest(
        **_base(
            c,
            ctx.facility(ctx.resolve(requester, "requester"), c.encounter_ref, c.patient_id),
            get_str(r, "status"),
            code,
            display,
        ),
        intent=get_str(r, "intent"),
        category=ccs_text(r, "category"),
        authored_on=get_datetime(r, "authoredOn"),
        occurrence=_first_datetime(r, "occurrenceDateTime", "occurrencePeriod", "occurrenceTiming"),
        requester=_person_display(requester, "requester", ctx),
        performer="; ".join(p for p in performers if p) or None,
        reason=_reasons(r, ctx),
        note=annotations_text(r),
    )
    return MappedRecord("ServiceRequest", row, c.hash, patient_id=c.patient_id)


def map_appointment(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord:
    service = ccs_text(r, "serviceType")
    code, display = cc_code_display(get_obj(r, "appointmentType"), "appointmentType")
    practitioners: list[str] = []
    location: str | None = None
    for i, part in enumerate(get_objs(r, "participant")):
        actor = get_obj(part, "actor", f"participant[{i}].actor")
        resolved = ctx.resolve(actor, f"participant[{i}].actor") or ""
        if resolved.startswith("Practitioner"):
            if name := _person_display(actor, f"participant[{i}].actor", ctx):
                practitioners.append(name)
        elif resolved.startswith("Location") and actor:
            location = location or ref_display(actor, f"participant[{i}].actor")
    row = t.Appointment(
        **_base(
            c,
            ctx.facility(None, c.encounter_ref, c.patient_id),
            get_str(r, "status"),
            code,
            get_str(r, "description") or service or display,
        ),
        description=get_str(r, "description"),
        start=get_datetime(r, "start"),
        end=get_datetime(r, "end"),
        service_type=service,
        practitioner="; ".join(practitioners) or None,
        location=location,
    )
    return MappedRecord("Appointment", row, c.hash, patient_id=c.patient_id)


def _extension_role(obj: JsonObj, path: str) -> str | None:
    for i, ext in enumerate(get_objs(obj, "extension", f"{path}extension")):
        if ext.get("url") == AUTHOR_ROLE_EXTENSION:
            return get_str(ext, "valueString", f"{path}extension[{i}].valueString") or cc_text(
                get_obj(ext, "valueCodeableConcept", f"{path}extension[{i}].valueCodeableConcept"),
                f"{path}extension[{i}].valueCodeableConcept",
            )
    return None


def author_and_role(r: JsonObj, key: str, ctx: BundleContext) -> tuple[str | None, str | None]:
    """(author display, author role) of the first author/performer."""
    refs = get_objs(r, key)
    role = _extension_role(r, "")
    if not refs:
        return None, role
    ref = refs[0]
    display = _person_display(ref, f"{key}[0]", ctx)
    role = _extension_role(ref, f"{key}[0].") or role
    if role is None:
        practitioner = ctx.practitioner(ctx.resolve(ref, f"{key}[0]"))
        quals = get_objs(practitioner, "qualification") if practitioner else []
        if quals:
            role = cc_text(get_obj(quals[0], "code", "qualification[0].code"), "qualification[0].code")
    return display, role


def _note(
    r: JsonObj,
    ctx: BundleContext,
    c: _Common,
    text: str,
    type_cc: JsonObj | None,
    when: datetime | None,
    author_key: str,
    own_org: str | None,
    status: str | None,
) -> MappedRecord:
    code, display = cc_code_display(type_cc, "type", LOINC)
    author, role = author_and_role(r, author_key, ctx)
    # The chunker's version is part of a note's hash: a new chunker re-chunks every note on the next
    # ingest, as it re-chunks every policy, so re-ingesting converges to what a fresh ingest builds.
    c = replace(c, hash=content_hash([c.hash, CHUNKER_VERSION]))
    row = t.Note(
        **_base(c, ctx.facility(own_org, c.encounter_ref, c.patient_id), status, code, display),
        note_type=display,
        note_type_code=code,
        date=when,
        author=author,
        author_role=role,
        text=text,
    )
    return MappedRecord(c.rtype, row, c.hash, patient_id=c.patient_id)


def map_document_reference(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord | str:
    texts = []
    for i, content in enumerate(get_objs(r, "content")):
        att = get_obj(content, "attachment", f"content[{i}].attachment")
        if att and (text := decode_attachment(att, f"content[{i}].attachment")) is not None:
            texts.append(text)
    if not texts:
        return "DocumentReference (no inline text/plain attachment)"
    context = get_obj(r, "context") or {}
    when = get_datetime(r, "date") or period_start(context, "period")
    custodian = ctx.resolve(get_obj(r, "custodian"), "custodian")
    return _note(
        r, ctx, c, "\n\n".join(texts), get_obj(r, "type"), when, "author", custodian, get_str(r, "status")
    )


def map_diagnostic_report(r: JsonObj, ctx: BundleContext, c: _Common) -> MappedRecord | str:
    if c.ref in ctx.superseded_reports:
        return "DiagnosticReport (note carried by its DocumentReference)"
    texts = []
    for i, att in enumerate(get_objs(r, "presentedForm")):
        if (text := decode_attachment(att, f"presentedForm[{i}]")) is not None:
            texts.append(text)
    if not texts:
        return "DiagnosticReport (no presentedForm text)"
    when = _first_datetime(r, "effectiveDateTime", "effectivePeriod", "issued")
    return _note(
        r, ctx, c, "\n\n".join(texts), get_obj(r, "code"), when, "performer", None, get_str(r, "status")
    )


def map_patient(r: JsonObj, ctx: BundleContext, warnings: list[str]) -> MappedRecord:
    rid = r["id"]
    display, given, family = human_name(r)
    pairs = identifier_pairs(r)
    mrn = None
    for i, ident in enumerate(get_objs(r, "identifier")):
        type_codes = {
            x.get("code") for x in codings(get_obj(ident, "type", f"identifier[{i}].type"), "identifier.type")
        }
        system = get_str(ident, "system", f"identifier[{i}].system") or ""
        if "MR" in type_codes or "mrn" in system.lower():
            mrn = get_str(ident, "value", f"identifier[{i}].value")
            break
    labels, label_warnings = security_labels(
        get_objs(get_obj(r, "meta") or {}, "security", "meta.security"), "meta.security"
    )
    warnings.extend(label_warnings)
    managing = ctx.resolve(get_obj(r, "managingOrganization"), "managingOrganization")
    row = t.Patient(
        id=rid,
        patient_key=domain.patient_key_for(rid),
        name=display,
        given=given,
        family=family,
        birth_date=get_date(r, "birthDate"),
        gender=get_str(r, "gender"),
        mrn=mrn,
        identifiers=json.dumps([{"system": s, "value": v} for s, v in pairs]),
        address=one_line_address(r),
        phone=telecom(r, "phone"),
        email=telecom(r, "email"),
        managing_organization=managing,
        facilities=t.labels_to_str([managing]) if managing else "",
        security_labels=t.labels_to_str(labels),
        content_hash=content_hash(r),
        raw=canonical_json(r),
    )
    return MappedRecord("Patient", row, row.content_hash, patient_id=rid)


def map_organization(r: JsonObj) -> MappedRecord:
    pairs = identifier_pairs(r)
    row = t.Organization(
        id=r["id"],
        name=get_str(r, "name") or "",
        identifiers=json.dumps([{"system": s, "value": v} for s, v in pairs]),
        raw=canonical_json(r),
    )
    return MappedRecord("Organization", row, content_hash(r))


def map_practitioner(r: JsonObj) -> MappedRecord:
    pairs = identifier_pairs(r)
    row = t.Practitioner(
        id=r["id"],
        name=human_name(r)[0],
        npi=next((v for s, v in pairs if s == NPI_SYSTEM), None),
        identifiers=json.dumps([{"system": s, "value": v} for s, v in pairs]),
        raw=canonical_json(r),
    )
    return MappedRecord("Practitioner", row, content_hash(r))


_CLINICAL_MAPPERS = {
    "Encounter": map_encounter,
    "Condition": map_condition,
    "MedicationRequest": map_medication_request,
    "Observation": map_observation,
    "AllergyIntolerance": map_allergy,
    "Procedure": map_procedure,
    "Immunization": map_immunization,
    "CarePlan": map_careplan,
    "CareTeam": map_careteam,
    "Task": map_task,
    "ServiceRequest": map_service_request,
    "Appointment": map_appointment,
    "DocumentReference": map_document_reference,
    "DiagnosticReport": map_diagnostic_report,
}


def map_resource(resource: JsonObj, ctx: BundleContext, warnings: list[str]) -> MappedRecord | str:
    """One resource → its rows, or a string saying why a known resource yields no row."""
    rtype = resource["resourceType"]
    if rtype == "Patient":
        return map_patient(resource, ctx, warnings)
    if rtype == "Organization":
        return map_organization(resource)
    if rtype == "Practitioner":
        return map_practitioner(resource)
    mapper = _CLINICAL_MAPPERS[rtype]
    common = _common(resource, ctx, warnings)
    result: MappedRecord | str = mapper(resource, ctx, common)
    return result


# --------------------------------------------------------------------------- bundles
def bundle_entries(
    data: object, source: str
) -> tuple[list[tuple[int | None, str | None, object]], list[Problem]]:
    """(index, fullUrl, resource) for every entry of a Bundle, or the bare resource itself."""
    if not isinstance(data, dict):
        return [], [
            Problem(source, None, None, None, f"top level must be a JSON object, got {_type_name(data)}")
        ]
    if data.get("resourceType") != "Bundle":
        if not isinstance(data.get("resourceType"), str):
            return [], [Problem(source, None, None, None, "not a FHIR resource (no resourceType)")]
        return [(None, None, data)], []
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        return [], [
            Problem(source, None, "Bundle", None, f"Bundle.entry must be an array, got {_type_name(entries)}")
        ]
    out: list[tuple[int | None, str | None, object]] = []
    problems: list[Problem] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(
                Problem(source, i, None, None, f"entry must be an object, got {_type_name(entry)}")
            )
            continue
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        if "resource" not in entry:
            request = entry.get("request")
            method = request.get("method") if isinstance(request, dict) else None
            problems.append(
                Problem(source, i, None, None, f"entry has no resource (request method {method or 'none'})")
            )
            continue
        out.append((i, full_url, entry["resource"]))
    return out, problems


def map_bundle(data: object, source: str, directory: Directory | None = None) -> BundleMapping:
    """Map a parsed bundle (or bare resource). Never raises for bad content: it reports it."""
    result = BundleMapping(source)
    entries, result.problems = bundle_entries(data, source)
    valid: list[tuple[int | None, str | None, JsonObj]] = []
    for index, full_url, res in entries:
        if not isinstance(res, dict):
            result.problems.append(
                Problem(source, index, None, None, f"resource must be an object, got {_type_name(res)}")
            )
            continue
        rtype, rid = res.get("resourceType"), res.get("id")
        if not isinstance(rtype, str) or not rtype:
            result.problems.append(
                Problem(source, index, None, _id_or_none(rid), "resource has no resourceType")
            )
            continue
        if rtype not in KNOWN_TYPES:
            result.unknown[rtype] += 1
            if rtype in LOOKUP_ONLY:
                valid.append((index, full_url, res))
            continue
        if not isinstance(rid, str) or not rid.strip():
            result.problems.append(Problem(source, index, rtype, _id_or_none(rid), "resource has no id"))
            continue
        valid.append((index, full_url, res))
    ctx = BundleContext([(u, r) for _, u, r in valid], directory or EmptyDirectory())
    for index, _, res in valid:
        rtype = res["resourceType"]
        if rtype in LOOKUP_ONLY:
            continue
        warnings: list[str] = []
        try:
            mapped = map_resource(res, ctx, warnings)
        except MappingError as exc:
            result.problems.append(Problem(source, index, rtype, res["id"], str(exc)))
            continue
        for w in warnings:
            result.warnings.append(Problem(source, index, rtype, res["id"], w))
        if isinstance(mapped, str):
            result.skipped[mapped] += 1
            continue
        result.records.append(mapped)
        if rtype in ("Organization", "Practitioner", "Patient"):
            for system, value in identifier_pairs(res):
                result.identifiers[identifier_key(rtype, system, value)] = f"{rtype}/{res['id']}"
    return result


def _id_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

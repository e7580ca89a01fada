"""The ``cms`` question set: Medicare coverage questions over the CMS National Coverage Determinations.

Ground truth comes from the NCD documents themselves (``../shared/data/cms_ncd``): most NCDs have a
"B. Nationally Covered Indications" (and "C. Nationally Non-Covered Indications") subsection under
"## Indications and Limitations of Coverage". A question "When does Medicare cover <title>?" is
answered right when a cited span lies inside that NCD's covered-indications subsection; "When is
<title> not covered by Medicare?" inside its non-covered subsection. Only a subset of the NCDs is
ingested; questions about NCDs left out (absent: expect a decline) test that carecite does not answer
a coverage question from a neighbouring policy, and bait questions name another person.

Splits are by NCD id (a stable hash), as the other sets split by patient.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carecite.evaluation.gold import GoldQuestion
from carecite.evaluation.realdata import EVAL_USER, import_eval_user, split_of

if TYPE_CHECKING:
    from carecite.stores import Stores

NCD_FILE = Path("cms_ncd") / "ncd_documents.jsonl"
CMS_ORG = "Organization/cms-eval"
CMS_PATIENT = "cms-eval-patient"
CMS_POLICIES = 60  # NCDs ingested (and asked about)
CMS_ABSENT = 20  # NCDs left out, asked about (expect a decline)
BAIT_NAMES = ("Mr. Hallorann", "Mrs. Okafor", "Ms. Lindqvist", "Mr. Baptiste")
# "B. Nationally Covered Indications" opens the subsection; the next letter's heading ("C. ...") or
# "## " closes it. Headings nested inside ("I. Allogeneic HSCT", "1. ...") do not.
_SUBHEAD = re.compile(
    r"(?m)^[ \t]*(?P<mark>[A-Z]|[IVX]+|\d+)\.[ \t]+(?P<title>[^\n]{3,80}?)[ \t]*$|^(?P<top>##)[ \t]"
)
# A subsection that states nothing: "N/A", "Not applicable." (CMS writes these under a heading the
# template requires). Such a subsection is no answer; the coverage position is in the other one.
_SAYS_NOTHING = re.compile(r"^\W*(n/?a|not applicable|none)\W*$", re.I)
_COVERED = re.compile(r"^nationally covered indications?$", re.I)
_NON_COVERED = re.compile(r"^nationally non-?\s?covered indications?$", re.I)


@dataclass(frozen=True)
class Ncd:
    ncd_id: str
    title: str
    text: str
    raw: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"Policy/{self.ncd_id}"

    def subsection(self, pattern: re.Pattern[str]) -> tuple[int, int] | None:
        """(start of the heading, start of the next heading of its level) of the first lettered
        subsection whose heading matches; None when there is none or when it says nothing ("N/A")."""
        heads = list(_SUBHEAD.finditer(self.text))
        for k, m in enumerate(heads):
            mark, title = m.group("mark") or "", (m.group("title") or "").strip()
            if len(mark) != 1 or not mark.isalpha() or not pattern.match(title):
                continue
            end = next(
                (
                    h.start()
                    for h in heads[k + 1 :]
                    if h.group("top") or h.group("mark") == chr(ord(mark) + 1)
                ),
                len(self.text),
            )
            body = self.text[m.end() : end].strip()
            return (m.start(), end) if body and not _SAYS_NOTHING.match(body) else None
        return None

    def coverage_position(self) -> tuple[int, int] | None:
        """Where the NCD says when Medicare covers the service: its covered-indications subsection, or,
        where that says nothing ("N/A": a never-event, a national non-coverage), its non-covered one."""
        return self.subsection(_COVERED) or self.subsection(_NON_COVERED)


def load_ncds(shared: Path) -> list[Ncd]:
    out: list[Ncd] = []
    with (shared / NCD_FILE).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                out.append(Ncd(str(rec["ncd_id"]), str(rec.get("title") or "").strip(), rec["text"], rec))
    return sorted(out, key=lambda n: hashlib.sha256(f"ncd:{n.ncd_id}".encode()).hexdigest())


def asked_and_absent(shared: Path, n: int = CMS_POLICIES) -> tuple[list[Ncd], list[Ncd]]:
    """The NCDs ingested and asked about (each has a covered-indications subsection), and those left out."""
    ncds = [x for x in load_ncds(shared) if x.title and _has_covered_heading(x)]
    return ncds[:n], ncds[n : n + CMS_ABSENT]


def _has_covered_heading(ncd: Ncd) -> bool:
    """The NCD has a covered-indications heading (whatever it says under it): the asked set does not
    depend on how the ground truth reads a subsection."""
    return any(_COVERED.match((m.group("title") or "").strip()) for m in _SUBHEAD.finditer(ncd.text))


def cms_questions(shared: Path, n: int = CMS_POLICIES) -> list[GoldQuestion]:
    asked, absent = asked_and_absent(shared, n)
    out: list[GoldQuestion] = []

    def add(ncd: Ncd, category: str, question: str, span: tuple[int, int] | None) -> None:
        out.append(
            GoldQuestion(
                id=f"cms-{len(out) + 1:03d}",
                split=split_of(ncd.ref),  # type: ignore[arg-type]
                category=category,
                user_id=EVAL_USER,
                patient_id=CMS_PATIENT,
                question=question,
                expect="answer" if span else "decline",
                expected_refs=(ncd.ref,) if span else (),
                expected_spans=((ncd.ref, *span),) if span else (),
            )
        )

    for i, ncd in enumerate(asked):
        if position := ncd.coverage_position():
            add(ncd, "covered", f"When does Medicare cover {ncd.title}?", position)
        if i % 3 == 0 and (span := ncd.subsection(_NON_COVERED)):
            add(ncd, "non_covered", f"When is {ncd.title} not covered by Medicare?", span)
        if i % 15 == 0:
            name = BAIT_NAMES[(i // 15) % len(BAIT_NAMES)]
            add(ncd, "cross_patient_bait", f"Does Medicare cover {ncd.title} for {name}?", None)
    for ncd in absent:
        add(ncd, "covered:absent", f"Does Medicare cover {ncd.title}?", None)
    return out


def cms_bundle() -> dict[str, Any]:
    """The one patient the coverage questions are asked about (coverage needs no record of theirs)."""
    patient = {
        "resourceType": "Patient",
        "id": CMS_PATIENT,
        "name": [{"family": "Coverage", "given": ["Evaluation"]}],
        "managingOrganization": {"reference": CMS_ORG},
    }
    org = {"resourceType": "Organization", "id": CMS_ORG.split("/", 1)[1], "name": "CMS evaluation"}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in (org, patient)
        ],
    }


def prepare_cms(stores: Stores, shared: Path, *, progress: bool = True, n: int = CMS_POLICIES) -> None:
    """Ingest the asked NCDs (never the absent ones), the evaluation patient and user. Idempotent."""
    from carecite.ingest.fhir import ingest_fhir_paths
    from carecite.ingest.policies import ingest_policies

    folder = stores.settings.data_dir / "eval_data" / "cms"
    folder.mkdir(parents=True, exist_ok=True)
    asked, _ = asked_and_absent(shared, n)
    for path, payload in (
        (folder / "ncd_subset.jsonl", "".join(json.dumps(x.raw) + "\n" for x in asked)),
        (folder / "patient.json", json.dumps(cms_bundle())),
    ):
        if not path.exists() or path.read_text(encoding="utf-8") != payload:
            path.write_text(payload, encoding="utf-8")
    ingest_fhir_paths(stores, [folder / "patient.json"], progress=progress)
    ingest_policies(stores, folder / "ncd_subset.jsonl", progress=progress)
    import_eval_user(stores, [CMS_ORG])

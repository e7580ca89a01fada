"""Consistent, reversible pseudonymisation of a prompt for an LLM that may not see PHI.

One ``Pseudonymizer`` per request. ``pseudonymize`` replaces names, identifiers, dates, phones, emails
and addresses by surrogate tokens — the patient's name by ``[PATIENT]``, the patient's birth date by
``[PATIENT_DOB]``, everything else by ``[KIND_n]`` (``[PERSON_2]``, ``[DATE_3]``, ``[MRN_1]``) — the
same original always getting the same token within the request. A date is keyed by how it is written,
not by its calendar day: "8/3/2026" and "2026-08-03" get two tokens, because a token maps back to one
original string, and an answer sentence must read exactly as its cited source writes it.
``reidentify`` maps tokens in the model's reply back to the originals, wherever and however often
they appear, with or without their brackets.

Why tokens and not shifted dates or fake names: a reply is mapped back by finding the surrogates in
it. Tokens survive an LLM that reorders, repeats or re-cases them; a shifted date the model rewrites
("March 5" for "2023-03-05") or a fake name it abbreviates could not be mapped back, and a wrong date
or name shown to a clinician is worse than a model that reasons over ``[DATE_3]``.

The patient's own identity (``privacy.identity.PatientIdentity``, the same object that scrubs index
text and audit records) is always replaced, in every form ``identity_spans`` knows, even where
Presidio misses it (a bare MRN "(17000039)" in a note header); detection by the ``Redactor`` covers
everyone else. Clinical words are kept: a detected PERSON span whose words are clinical vocabulary
(``clinical_terms``: eponyms, drugs, RxNorm dose forms; plus ``keep_terms``, the code displays of
the record itself) is not a person ("Metered Dose Inhaler" stays intact).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from carecite.ports import ChatMessage, ChatModel, ChatResult, PhiEntity, Redactor
from carecite.privacy.clinical_terms import is_clinical_term
from carecite.privacy.identity import PatientIdentity, identity_spans

# Redactor entity type → surrogate kind.
_KIND = {
    "PERSON": "PERSON",
    "MRN": "MRN",
    "ID": "ID",
    "US_SSN": "SSN",
    "DATE_OF_BIRTH": "DOB",
    "DATE": "DATE",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "ADDRESS": "ADDRESS",
    "LOCATION": "ADDRESS",
    "URL": "URL",
    "IP_ADDRESS": "IP",
}
# identity placeholder (privacy.identity) → surrogate kind
_IDENTITY_KIND = {
    "[PATIENT]": "PATIENT",
    "[DOB]": "PATIENT_DOB",
    "[MRN]": "MRN",
    "[PHONE]": "PHONE",
    "[ADDRESS]": "ADDRESS",
    "[EMAIL]": "EMAIL",
}
PATIENT_TOKEN = "[PATIENT]"
PATIENT_DOB_TOKEN = "[PATIENT_DOB]"
_TOKEN_BODY = r"PATIENT_DOB|PATIENT|(?:PERSON|MRN|ID|SSN|DOB|DATE|PHONE|EMAIL|ADDRESS|URL|IP)_\d+"
_TOKEN_IN_TEXT = re.compile(rf"\[?(?<![A-Za-z0-9_])(?:{_TOKEN_BODY})(?![A-Za-z0-9_])\]?", re.IGNORECASE)
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%d-%b-%Y",
)


def parse_date(text: str) -> date | None:
    """The calendar day a date string names, when it is one of the common forms; else None."""
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().replace(".", " ").replace(",", ", "))
    cleaned = re.sub(r"\s+", " ", cleaned).replace(" ,", ",")
    for candidate in (text.strip(), cleaned):
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str  # surrogate kind, or "PATIENT" / "PATIENT_DOB"
    priority: int  # 0 = known identity (wins overlaps), 1 = detected


class Pseudonymizer:
    """Per-request surrogate table. Not thread-safe: make one per request."""

    def __init__(
        self,
        redactor: Redactor,
        identity: PatientIdentity | None = None,
        *,
        keep_terms: frozenset[str] = frozenset(),
    ) -> None:
        self.redactor = redactor
        self.identity = identity or PatientIdentity()
        self.keep_terms = keep_terms  # casefolded words of the record's own code displays
        self._surrogates: dict[tuple[str, str], str] = {}  # (kind, key) → token
        self._originals: dict[str, str] = {}  # TOKEN (upper, no brackets) → original text
        self._counters: dict[str, int] = {}
        if self.identity.display_name:
            self._originals["PATIENT"] = self.identity.display_name
        if self.identity.birth_date:
            self._originals["PATIENT_DOB"] = self.identity.birth_date.isoformat()

    @property
    def mapping(self) -> dict[str, str]:
        """``[TOKEN]`` → original, for audit or display; never send it to the model."""
        return {f"[{token}]": original for token, original in self._originals.items()}

    # ------------------------------------------------------------------ forward
    def pseudonymize(self, text: str) -> str:
        spans = self._known_spans(text) + self._detected_spans(text)
        out: list[str] = []
        pos = 0
        for group in _merge(spans):
            start, end, kind = group
            original = text[start:end]
            out.append(text[pos:start])
            out.append(self._surrogate(kind, original))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def pseudonymize_messages(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        return [ChatMessage(role=m.role, content=self.pseudonymize(m.content)) for m in messages]

    # ------------------------------------------------------------------ backward
    def reidentify(self, text: str) -> str:
        def restore(m: re.Match[str]) -> str:
            token = m.group(0).strip("[]").upper()
            return self._originals.get(token, m.group(0))

        return _TOKEN_IN_TEXT.sub(restore, text)

    # ------------------------------------------------------------------ internals
    def _known_spans(self, text: str) -> list[_Span]:
        return [
            _Span(sp.start, sp.end, _IDENTITY_KIND[sp.placeholder], 0)
            for sp in identity_spans(text, self.identity, strict_case=True)
        ]

    def _detected_spans(self, text: str) -> list[_Span]:
        existing = [(m.start(), m.end()) for m in _TOKEN_IN_TEXT.finditer(text)]
        spans = []
        for e in self.redactor.analyze(text):
            if any(e.start < b and a < e.end for a, b in existing):
                continue  # already a surrogate: pseudonymising twice must be a no-op
            if e.entity_type == "PERSON" and self._is_clinical(text, e):
                continue  # "Metered Dose Inhaler", "Parkinson disease": vocabulary, not a person
            spans.append(_Span(e.start, e.end, self._kind_for(e), 1))
        return spans

    def _is_clinical(self, text: str, entity: PhiEntity) -> bool:
        span = text[entity.start : entity.end]
        words = [w.casefold() for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]*", span)]
        if words and set(words) & self.identity.name_words():
            return False  # the patient's own name is never vocabulary
        if words and all(w in self.keep_terms for w in words):
            return True
        return is_clinical_term(span, text[entity.end :])

    def _kind_for(self, entity: PhiEntity) -> str:
        kind = _KIND.get(entity.entity_type, "ID")
        if kind == "PERSON":
            words = {w.casefold() for w in re.findall(r"[\w'-]+", entity.text)}
            if words and words <= self.identity.name_words():
                return "PATIENT"
        birth = self.identity.birth_date
        if kind in ("DATE", "DOB") and birth and parse_date(entity.text) == birth:
            return "PATIENT_DOB"
        return kind

    def _surrogate(self, kind: str, original: str) -> str:
        if kind == "PATIENT":
            self._originals.setdefault("PATIENT", original)
            return PATIENT_TOKEN
        if kind == "PATIENT_DOB":
            self._originals.setdefault("PATIENT_DOB", original)
            return PATIENT_DOB_TOKEN
        key = re.sub(r"\s+", " ", original).casefold()
        token = self._surrogates.get((kind, key))
        if token is None:
            self._counters[kind] = self._counters.get(kind, 0) + 1
            token = f"{kind}_{self._counters[kind]}"
            self._surrogates[(kind, key)] = token
            self._originals[token] = original
        return f"[{token}]"


def _merge(spans: list[_Span]) -> list[tuple[int, int, str]]:
    """Union overlapping spans; the kind comes from a known-identity span when one is involved."""
    merged: list[tuple[int, int, str]] = []
    group: list[_Span] = []
    end = -1
    for span in [*sorted(spans, key=lambda s: (s.start, -s.end)), None]:
        if span is None or span.start >= end:
            if group:
                best = min(group, key=lambda s: (s.priority, -(s.end - s.start)))
                merged.append((min(s.start for s in group), end, best.kind))
            if span is None:
                break
            group, end = [span], span.end
        else:
            group.append(span)
            end = max(end, span.end)
    return merged


class PseudonymizingChatModel:
    """A ``ChatModel`` that pseudonymises every message before the inner model sees it and
    reidentifies the reply. Wrap the remote model with it, one per request, when the endpoint is not
    allowed PHI (``settings.llm_phi_allowed`` is False)."""

    def __init__(self, inner: ChatModel, pseudonymizer: Pseudonymizer) -> None:
        self.inner = inner
        self.pseudonymizer = pseudonymizer
        self.name = inner.name
        self.remote = inner.remote

    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None) -> ChatResult:
        result = self.inner.complete(
            self.pseudonymizer.pseudonymize_messages(messages), max_tokens=max_tokens
        )
        return result.model_copy(update={"text": self.pseudonymizer.reidentify(result.text)})


def needs_pseudonymization(model: ChatModel, phi_allowed: bool) -> bool:
    """PHI may leave the machine only to an endpoint explicitly allowed to receive it."""
    return bool(model.remote) and not phi_allowed

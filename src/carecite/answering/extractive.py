"""The offline answerer: an answer made only of sentences copied verbatim from the sources.

Used when no LLM endpoint is configured. It cannot invent a fact: every sentence is a source
sentence (or a structured record's whole statement) followed by that source's marker, so it
always passes citation verification. Sentences are chosen by relevance to the question, an
embedding cosine plus content-word overlap, with a small preference for higher-ranked sources;
near-duplicates are skipped and the answer is capped at a few sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from carecite.answering.recency import newest_first, with_note_dates
from carecite.answering.text import (
    CANNOT_ANSWER,
    Segment,
    content_terms,
    embed_texts,
    is_header_line,
    is_heading,
    segment,
)
from carecite.domain import Candidate, resource_type_of
from carecite.ports import Embedder
from carecite.privacy.identity import PatientIdentity, identity_spans
from carecite.reading.reading import Reading, read_text
from carecite.retrieval.records.lookup import is_sure_record
from carecite.retrieval.section_match import headers
from carecite.text.assertion import (
    Group,
    Polarity,
    answer_polarity,
    asserting,
    names_topic,
    polarity,
    yes_no_finding,
    yes_no_topic,
)
from carecite.text.dates import holds_date
from carecite.text.drug_names import names_drug
from carecite.text.sections import (
    BY_NAME,
    SectionKind,
    asked_header,
    holds_kind,
    names_medications,
    normalise_title,
    says_nothing,
    section_kinds,
)
from carecite.text.terms import singular
from carecite.text.vital_signs import asked_vital_signs, states_vital_sign

# A question asking for a time: "when", "what date", "how long ago".
_ASKS_WHEN = re.compile(r"\bwhen\b|\bwhat (day|date|year|month)\b|\bhow long ago\b", re.I)

COSINE_WEIGHT = 0.6
RANK_STEP = 0.02  # each step down the re-ranked list costs this much relevance
DUPLICATE_COSINE = 0.92
SECTION_ITEMS = 8  # a section answer quotes at most this many of the section's sentences


# The lead a yes/no question's answer opens with, by what the quoted sentences assert of its topic.
LEAD_WORDS: dict[Polarity, str] = {"yes": "Yes", "no": "No", "past": "In the past"}


@dataclass(frozen=True)
class Lead:
    """One short sentence answering a yes/no question ("No"), resting on the quoted ``sources``
    (1-based) that assert it: shown only when verification keeps every one of them."""

    text: str
    sources: tuple[int, ...]

    def sentence(self) -> str:
        return f"{self.text} {''.join(f'[S{i}]' for i in self.sources)}."


@dataclass(frozen=True)
class Pick:
    source: int  # 1-based, as in [S1]
    segment: Segment
    relevance: float


@dataclass(frozen=True)
class ExtractiveAnswerer:
    embedder: Embedder
    max_sentences: int = 4
    min_relevance: float = 0.35  # below this nothing is relevant enough: say so
    relative_floor: float = 0.75  # a sentence must reach this fraction of the best one's relevance

    def picks(
        self,
        question: str,
        sources: Sequence[Candidate],
        identity: PatientIdentity | None = None,
        reading: Reading | None = None,
    ) -> list[Pick]:
        """The chosen source sentences, most relevant first; for a question that asks for a section
        ("What was the impression?"), that section's sentences in the note's order. ``reading``: the
        request's reading of ``question`` (read here only when the caller has none)."""
        reading = reading or read_text(question)
        asked = reading.asked
        if asked is None and not any(map(is_sure_record, sources)):
            asked = asked_header(question, headers(sources), self._similarity)
        if (
            asked is not None
            and asked.includes
            and (named := asked_header(question, headers(sources), self._similarity))
        ):
            # "What did the xrays show" of a visit note with a "RADIOGRAPHS:" section: the section the
            # question names is that study's result, not the visit's impression.
            asked = named
        if asked is not None and asked.optional and not section_items(asked, sources, identity):
            asked = None  # no source holds it: answered as a question naming no section
        if (
            asked is not None
            and asked.polar
            and not asked.cues.search(question)
            and (records := sure_records(sources))
        ):
            return records[:1]  # "does he smoke": the latest smoking-status record is the system of record
        if asked is not None and asked.record_kind is not None:
            kind = asked.record_kind
            if records := [
                p for p in sure_records(sources) if resource_type_of(sources[p.source - 1].source_ref) == kind
            ]:
                return records  # the coded record the section is about: the system of record
        # Coverage: the criteria of the policy ranked first (the one the question names), never a
        # neighbour's because the first says nothing under the heading.
        first_policy = (
            next((c.doc_id for c in sources if c.source_type == "policy"), None)
            if asked and asked.whole
            else None
        )
        if asked is not None and not asked.latest:
            # A question naming more than the section: the section of the note ranked first, or none.
            first_policy = next((c.doc_id for c in sources if c.source_type == "note_chunk"), None)
        if asked is not None and (items := section_items(asked, sources, identity, doc_id=first_policy)):
            if asked.instead and all(says_nothing(p.segment.text) for p in items):
                # "Covered indications: N/A": the policy's coverage position is in its other section.
                doc = sources[items[0].source - 1].doc_id
                items = section_items(BY_NAME[asked.instead], sources, identity, doc_id=doc) or items
            if asked.polar and (speaking := _speaking(question, [p.segment.text for p in items], identity)):
                return [items[k] for k in speaking]  # "does she smoke": the sentences that say whether
            cue = asked.cues.search(question)
            # A header asked for by name and nothing more ("whats on his med list") is a list question too.
            named_only = bool(asked.titles) and asked.latest
            if (
                asked.whole
                or named_only
                or not content_terms(question) - content_terms(cue.group(0) if cue else "")
            ):
                # "What was the impression?", "When does Medicare cover X?": the section is the answer
                return items + _patient_match(sources) if asked.with_patient_record else items
            # "What did cardiology recommend at discharge?": the section's relevant sentences.
            picks = self._rank(question, [(p.source, p.segment) for p in items], sources) or items
            if asked.with_patient_record:
                picks += _patient_match(sources)
            return picks
        # Records answer record questions. A coverage question is answered by the policy's sentences,
        # the patient's record only beside them (never alone: that would read as a coverage answer).
        coverage = reading.coverage
        if asked is None and not coverage and (records := sure_records(sources)):
            return records
        pool: list[tuple[int, Segment]] = []
        for i, cand in enumerate(sources, start=1):
            if cand.source_type == "record":
                if not coverage:
                    pool.append((i, _statement(cand)))  # a statement is cited whole
                continue
            for seg in segment(cand.text, _opening_section(cand), at_document_start=cand.start == 0):
                # Fragments ("Signed.") state nothing worth quoting; header lines (name, DOB, MRN,
                # signatures, banners, the title, a table's header row) identify rather than answer.
                if (
                    not seg.frames
                    and len(content_terms(seg.text)) >= 3
                    and not seg.text.rstrip().endswith(":")
                    and not is_header_line(seg.text)
                    and not _identifies(seg.text, identity)
                ):
                    pool.append((i, seg))
        if asked is not None and asked.prose is not None:
            # The section is not in the sources: only a sentence that speaks of it may answer
            # ("discharged on ..."), never a nearby one about something else.
            prose = asked.prose
            pool = [(i, seg) for i, seg in pool if prose.search(seg.text)]
            if asked.polar and (speaking := _speaking(question, [seg.text for _, seg in pool], identity)):
                pool = [pool[k] for k in speaking]
            if asked.prose_answers:  # naming the payer is the answer, however unlike the question
                ranked = self._rank(question, pool, sources, min_relevance=float("-inf"))
                return newest_first(question, ranked, sources)[:1]
        if (
            asked is None
            and names_medications(question)
            and not any(names_medications(h.title) for h in headers(sources))
        ):
            # "What seizure meds is he on" over an EEG report with no medication list: only a sentence
            # naming a drug (the drug lexicon, ``text.drug_names``) may answer, never the report's
            # history sentence that shares the word "seizure".
            pool = [(i, seg) for i, seg in pool if names_drug(seg.text)]
        if (vitals := asked_vital_signs(question)) and (
            stating := [(i, seg) for i, seg in pool if states_vital_sign(seg.text, vitals)]
        ):
            # "What was her blood pressure?" asks for the value: a sentence stating one answers, not
            # one that only names it ("her blood pressure started to go up"). Stating the value asked
            # for is the evidence, however unlike the question its other words are.
            ranked = self._rank(question, stating, sources, min_relevance=float("-inf"))
            return newest_first(question, ranked, sources)
        if _ASKS_WHEN.search(question) and (
            dated := self._rank(question, [(i, seg) for i, seg in pool if holds_date(seg.text)], sources)
        ):
            # "When was her ERCP": a relevant sentence holding the date answers ("On August 24, 2010,
            # she underwent the endoscopic retrograde cholangiopancreatography"), not one that only
            # names the event.
            return newest_first(question, dated, sources)
        ranked = self._rank(question, pool, sources)
        names = identity.name_words() if identity is not None else set()
        if (
            ranked
            and (finding := yes_no_finding(question, names))
            and (stated := _asserting(pool, finding, sources))
        ):
            # "Did she aspirate on the swallow study": the sentence asserting the finding answers ("No
            # aspiration was noted"), not one naming it only as possible ("to rule out aspiration")
            # nor the study's other sentences that share more of the question's words. Asserting the
            # asked finding is the evidence, so its relevance needs no floor once the sources answer.
            stated_ranked = self._rank(question, stated, sources, min_relevance=float("-inf"))
            return newest_first(question, stated_ranked, sources)
        picks = newest_first(question, ranked, sources)
        return picks + _patient_match(sources) if coverage and picks else picks

    def _similarity(self, question: str, texts: Sequence[str]) -> list[float]:
        vecs = embed_texts(self.embedder, [question, *texts])
        return [float(v) for v in vecs[1:] @ vecs[0]]

    def _rank(
        self,
        question: str,
        pool: list[tuple[int, Segment]],
        sources: Sequence[Candidate],
        min_relevance: float | None = None,
    ) -> list[Pick]:
        """The most relevant of ``pool`` (source number, segment), by cosine and word overlap."""
        if not pool:
            return []
        floor = self.min_relevance if min_relevance is None else min_relevance
        q_terms = content_terms(question)
        q_vec = embed_texts(self.embedder, [question])[0]  # the shared cache: embedded once per request
        vecs = embed_texts(self.embedder, [seg.text for _, seg in pool])
        cosines = vecs @ q_vec
        scored: list[tuple[float, int]] = []
        for k, ((i, seg), cos) in enumerate(zip(pool, cosines, strict=True)):
            lex = len(q_terms & content_terms(seg.text)) / len(q_terms) if q_terms else float(cos)
            rel = COSINE_WEIGHT * float(cos) + (1 - COSINE_WEIGHT) * lex - RANK_STEP * (i - 1)
            if sources[i - 1].source_type == "record":
                # A record's statement is the whole source, so the source's calibrated score (which
                # knows status and dates: "overdue", "most recent") is its relevance when higher;
                # text similarity alone undervalues terse statements.
                rel = max(rel, sources[i - 1].score - RANK_STEP * (i - 1))
            scored.append((rel, k))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        best = scored[0][0]
        if best < floor:
            return []
        chosen: list[int] = []
        for rel, k in scored:
            if len(chosen) >= self.max_sentences or rel < max(floor, best * self.relative_floor):
                break
            if any(float(np.dot(vecs[k], vecs[j])) >= DUPLICATE_COSINE for j in chosen):
                continue
            chosen.append(k)
        return [Pick(pool[k][0], pool[k][1], round(rel, 4)) for rel, k in scored if k in chosen]

    def answer(
        self,
        question: str,
        sources: Sequence[Candidate],
        identity: PatientIdentity | None = None,
        reading: Reading | None = None,
    ) -> str:
        return self.compose(question, sources, identity, reading)[0]

    def compose(
        self,
        question: str,
        sources: Sequence[Candidate],
        identity: PatientIdentity | None = None,
        reading: Reading | None = None,
    ) -> tuple[str, Lead | None]:
        """The answer's cited sentences, and the lead a yes/no question opens with (if they agree on one)."""
        reading = reading or read_text(question)
        picks = self.picks(question, sources, identity, reading)
        if not picks:
            return CANNOT_ANSWER, None
        cited = [cite(_quote(p, sources), p.source) for p in picks]
        text = " ".join(with_note_dates(question, cited, [p.source for p in picks], sources))
        names = identity.name_words() if identity is not None else set()
        return text, yes_no_lead(question, picks, sources, names, asked=reading.asked)


def yes_no_lead(
    question: str,
    picks: Sequence[Pick],
    sources: Sequence[Candidate],
    names: Iterable[str] = (),
    *,
    asked: SectionKind | None,
) -> Lead | None:
    """ "Does she smoke?" over "The patient is a life long nonsmoker." → "No", resting on that sentence:
    what every quoted sentence speaking of the topic asserts of it (medSpaCy's ConText rules,
    ``text.assertion``). None for a question that is not yes/no, or not about a section whose
    sentences answer by what they assert (``SectionKind.asserts``), or when they do not agree.
    ``asked``: the section the question's reading asks for (``Reading.asked``)."""
    topic = yes_no_topic(question, names) if asked is not None and asked.asserts else ()
    if not topic:
        return None
    quoted = [(p.source, _quote(p, sources)) for p in picks]
    said = answer_polarity([text for _, text in quoted], topic)
    if said is None:
        return None
    # Cited by the first sentence that says so (the others agree; each is cited where it is quoted).
    first = next(i for i, text in quoted if any(polarity(text, part) is not None for part in topic))
    return Lead(LEAD_WORDS[said], (first,))


def _speaking(question: str, texts: Sequence[str], identity: PatientIdentity | None) -> list[int]:
    """Which of ``texts`` name the topic of a yes/no question ("does she smoke": the sentences naming
    smoking or tobacco, however they assert it); none for any other question."""
    topic = yes_no_topic(question, identity.name_words() if identity is not None else ())
    return [k for k, text in enumerate(texts) if topic and names_topic(text, topic)]


def _patient_match(sources: Sequence[Candidate]) -> list[Pick]:
    """The patient's record the structured retriever is sure of ("Heart failure (active), onset ..."),
    quoted beside a coverage criterion so both halves of "does it cover it for this patient" are cited."""
    return sure_records(sources, first_only=True)


def sure_records(sources: Sequence[Candidate], *, first_only: bool = False) -> list[Pick]:
    """The answer to a record question: every record the structured retriever is sure is what was
    asked (kind, status, date, named item), as its readable brief, in rank order.

    "Which tasks are open?" lists all open tasks, not the four most similar sentences; "the most recent
    A1c" is one row, because only the latest result clears the floor. They answer even below a note:
    the record is the system of record for what is current, and a note ranked first ("No active
    medications", from a visit years ago) is history.
    """
    sure = [
        Pick(i, _statement(cand), round(cand.score, 4))
        for i, cand in enumerate(sources, start=1)
        if is_sure_record(cand)
    ]
    return sure[:1] if first_only else sure


def _statement(cand: Candidate) -> Segment:
    """A record is chosen by its whole statement (its field names are words a question uses)."""
    return Segment(0, len(cand.text), cand.text)


def _quote(pick: Pick, sources: Sequence[Candidate]) -> str:
    """What the answer says for a pick: a record's brief (the statement's facts, readably, verified
    against the statement like any sentence), otherwise the source's own sentence."""
    cand = sources[pick.source - 1]
    return (cand.brief or pick.segment.text) if cand.source_type == "record" else pick.segment.text


def _opening_section(cand: Candidate) -> str | None:
    """The section a chunk's text opens in (a chunk after the first of a section has no header). A
    chunk at the document's start opens in none: its first line is the title ("NCD 140.7 - ...")."""
    return cand.section.split(" / ")[0] if cand.section and cand.start else None


def section_items(
    asked: SectionKind,
    sources: Sequence[Candidate],
    identity: PatientIdentity | None = None,
    *,
    doc_id: str | None = None,
) -> list[Pick]:
    """The sentences of the asked section, from the best-ranked note that has it (or from ``doc_id``),
    in the note's order.

    A section spread over two chunks (windows overlap by a sentence) is read from every chunk of that
    note; a sentence seen twice is quoted once.
    """
    holders: list[tuple[int, Candidate, list[Segment]]] = []
    for i, cand in enumerate(sources, start=1):
        if cand.source_type not in ("note_chunk", "policy") or doc_id not in (None, cand.doc_id):
            continue
        segs = [
            seg
            for seg in segment(cand.text, _opening_section(cand), at_document_start=cand.start == 0)
            if holds_kind(asked, seg.section, cand.note_type)
            and not seg.frames
            and not is_heading(seg)
            and not is_header_line(seg.text)
            and not _identifies(seg.text, identity)
            and not (cand.source_type == "policy" and _subheading(seg.text))
        ]
        if segs:
            holders.append((i, cand, segs))
    if not holders:
        return []
    best = holders[0][1]  # sources come ranked; among section holders the latest note first
    seen: set[int] = set()
    found: list[tuple[int, Pick]] = []
    for i, cand, segs in holders:
        if cand.doc_id != best.doc_id:
            continue
        for seg in segs:
            at = (cand.start or 0) + seg.start  # offset in the note: overlapping windows repeat it
            if at not in seen:
                seen.add(at)
                found.append((at, Pick(i, seg, round(cand.score, 4))))
    found.sort(key=lambda pair: (_included_rank(asked, pair[1].segment.section), pair[0]))
    # A note with an "IMPRESSION:" and an "INTERPRETATION:" (both read as the impression): the section
    # titled with the kind's own name is the one asked for; a synonym's section answers only alone.
    # Compared as singular words ("MEDICATIONS AT DISCHARGE") or joined ("FOLLOWUP" is "Follow-up").
    own_name = [(at, p) for at, p in found if _titled(asked.name, p.segment.section or "")]
    found = own_name or found
    if asked.narrowest is not None:
        narrow = asked.narrowest
        narrowest = [(at, p) for at, p in found if narrow.search(normalise_title(p.segment.section or ""))]
        found = narrowest or found
    return [pick for _, pick in found[:SECTION_ITEMS]]


def _included_rank(asked: SectionKind, title: str | None) -> int:
    """Where a section comes in a kind that includes others (``SectionKind.includes``): the impression
    before the findings; 0 for every section of a kind that includes none."""
    held = section_kinds(title)
    return next((k for k, name in enumerate(asked.includes) if name in held), 0)


def _titled(name: str, title: str) -> bool:
    """Is ``title`` the kind's own ``name``: all its singular words, in any order ("Medications at
    discharge"), or the words joined ("FOLLOWUP", "Follow up" for "follow-up")?"""
    words = [singular(w) for w in re.findall(r"[a-z0-9]+", normalise_title(title))]
    wanted = [singular(w) for w in re.findall(r"[a-z0-9]+", name.lower())]
    return set(wanted) <= set(words) or "".join(wanted) in "".join(words)


# Identifier kinds that make a line a header: the patient's name alone does not ("Mr. Baker was
# discharged home" is clinical), their MRN, birth date, phone, address or e-mail does.
_IDENTIFYING = frozenset({"[MRN]", "[DOB]", "[PHONE]", "[ADDRESS]", "[EMAIL]"})


def _subheading(text: str) -> bool:
    """A policy's unnumbered subheading line ("Electrical Osteogenic Stimulators", "Noninvasive
    Stimulator"): a few capitalised words and no sentence end. It names a part; it states nothing."""
    words = text.split()
    return (
        not says_nothing(text)
        and 0 < len(words) <= 8
        and not text.rstrip().endswith((".", ";", ":", "?", "!"))
        and all(
            w[0].isupper()
            or not w[0].isalpha()
            or w in ("of", "for", "and", "or", "the", "with", "in", "on", "to")
            for w in words
        )
    )


def _identifies(text: str, identity: PatientIdentity | None) -> bool:
    if identity is None:
        return False
    return any(sp.placeholder in _IDENTIFYING for sp in identity_spans(text, identity))


def cite(sentence: str, source: int) -> str:
    """'Echo is overdue.' -> 'Echo is overdue [S2].' (the words stay exactly the source's)."""
    parts = []
    for seg in segment(sentence):  # a record statement may hold more than one sentence
        m = re.match(r"^(.*?)([.!?]+[\"')\]]*)?$", seg.text, re.S)
        core, punct = (m.group(1), m.group(2)) if m else (seg.text, None)
        parts.append(f"{core.rstrip()} [S{source}]{punct or '.'}")
    return " ".join(parts)


def _asserting(
    pool: Sequence[tuple[int, Segment]], finding: Sequence[Group], sources: Sequence[Candidate]
) -> list[tuple[int, Segment]]:
    """The sentences of ``pool`` asserting a yes/no question's finding (``text.assertion.asserting``),
    those carried forward word for word into another of the patient's notes left out while a sentence
    of a single note asserts it: a line copied from note to note ("Relapse-prevention plan updated" in
    every session's plan) is the template's, not this visit's report (copy-forward text: Wrenn et al.,
    JAMIA 2010, "Quantifying clinical narrative redundancy in an electronic health record")."""
    stated = [pool[k] for k in asserting([seg.text for _, seg in pool], finding)]
    notes_of: dict[str, set[str | None]] = {}
    for i, seg in pool:
        if sources[i - 1].source_type == "note_chunk":
            notes_of.setdefault(_verbatim(seg.text), set()).add(sources[i - 1].doc_id)
    own = [(i, seg) for i, seg in stated if len(notes_of.get(_verbatim(seg.text), ())) < 2]
    return own or stated


def _verbatim(text: str) -> str:
    """A sentence as compared word for word (case and spacing aside)."""
    return " ".join(text.lower().split())

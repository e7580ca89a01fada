"""The assertion of every mention in a sentence: negated, historical, hypothetical, family or possible.

"Denies chest pain" does not say the patient has chest pain; "history of smoking", "if she smokes",
"mother smokes" and "possible pneumonia" each say something other than "she smokes". This module
reads those modifiers with the ConText algorithm (Harkema et al. 2009, as medSpaCy implements it):
trigger phrases (medSpaCy's English rules, ``context_rules``, plus carecite's few additions below)
are matched with spaCy's ``Matcher`` / ``PhraseMatcher`` over a blank English tokenizer; each trigger
modifies a scope running forward or backward to the sentence's edge (or ``max_scope`` tokens), cut
short by a terminating phrase ("but") or by another trigger of the same category; pseudo-triggers
("no increase") modify nothing. The scope rules follow ``medspacy.context.ConTextModifier`` exactly.

medspacy itself is not installed: its 1.3.1 release pins spaCy < 3.8 on Python < 3.12 (it would
downgrade spaCy 3.8 / thinc 8.3), so its rules run here on the spaCy this project already has.

One place for this rule: the offline answerer reads a yes/no question's answer from it (``polarity``)
and citation verification refuses a claim that a source only mentions negated (``negated_terms``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from carecite.text.context_rules import CONTEXT_RULES
from carecite.text.sentences import split_sentences
from carecite.text.terms import STOP_WORDS

Category = Literal["negated", "historical", "hypothetical", "family", "possible"]
CATEGORIES: dict[str, Category] = {
    "NEGATED_EXISTENCE": "negated",
    "HISTORICAL": "historical",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "family",
    "POSSIBLE_EXISTENCE": "possible",
}
# A mention so modified is not about the patient's own present state ("mother smokes", "if she drinks").
NOT_THE_PATIENTS: frozenset[Category] = frozenset({"hypothetical", "family", "possible"})

# carecite's additions, in medSpaCy's rule format. ``self``: the trigger names the negated concept
# itself ("nonsmoker" is a negated smoker; "NKDA" negated drug allergies), written out in ``concept``.
EXTRA_RULES: tuple[dict[str, Any], ...] = (
    # "Never smoked tobacco", "never used": medSpaCy has only "never had" / "never developed".
    {"category": "NEGATED_EXISTENCE", "literal": "never", "direction": "FORWARD"},
    # "non-smoker", "non drinker": the next word or two.
    {
        "category": "NEGATED_EXISTENCE",
        "literal": "non-",
        "direction": "FORWARD",
        "pattern": [{"LOWER": "non"}, {"ORTH": "-", "OP": "?"}],
        "max_scope": 2,
    },
    {"category": "NEGATED_EXISTENCE", "literal": "nonsmoker", "direction": "SELF", "concept": "smoker"},
    {"category": "NEGATED_EXISTENCE", "literal": "non-smoker", "direction": "SELF", "concept": "smoker"},
    {"category": "NEGATED_EXISTENCE", "literal": "nondrinker", "direction": "SELF", "concept": "drinker"},
    {
        "category": "NEGATED_EXISTENCE",
        "literal": "teetotaler",
        "direction": "SELF",
        "concept": "drinker alcohol",
    },
    {"category": "NEGATED_EXISTENCE", "literal": "nkda", "direction": "SELF", "concept": "drug allergies"},
    {"category": "NEGATED_EXISTENCE", "literal": "nka", "direction": "SELF", "concept": "allergies"},
    {"category": "NEGATED_EXISTENCE", "literal": "nkfa", "direction": "SELF", "concept": "food allergies"},
    # "Allergies: NKDA" negates the header before it, as medSpaCy's ": none" does.
    {
        "category": "NEGATED_EXISTENCE",
        "literal": ": nkda",
        "direction": "BACKWARD",
        "pattern": [{"ORTH": ":"}, {"LOWER": {"IN": ["nkda", "nka", "nkfa"]}}],
    },
    # "No smoking or alcohol use and lives alone": a new clause ("and" before a verb of state) ends a
    # scope, as medSpaCy's "but" does. Only "and" is the trigger (``trigger_tokens``).
    {
        "category": "NEGATED_EXISTENCE",
        "literal": "and <verb>",
        "direction": "TERMINATE",
        "pattern": [
            {"LOWER": {"IN": ["and", "but"]}},
            {
                "LOWER": {
                    "IN": [
                        "lives",
                        "lived",
                        "is",
                        "was",
                        "has",
                        "had",
                        "works",
                        "worked",
                        "reports",
                        "reported",
                        "states",
                        "drinks",
                        "smokes",
                        "uses",
                        "used",
                        "walks",
                        "exercises",
                        "enjoys",
                        "attends",
                        "admits",
                    ]
                }
            },
        ],
        "trigger_tokens": 1,
    },
    # "The risk of aspiration": medSpaCy's HYPOTHETICAL "risks of" rule, whose one-token pattern lists
    # the two-word phrases ("risks of", "risk of") and so never matches a token; written as two tokens.
    {
        "category": "HYPOTHETICAL",
        "literal": "risk of",
        "direction": "FORWARD",
        "pattern": [{"LOWER": {"IN": ["risk", "risks"]}}, {"LOWER": "of"}],
    },
    # A "no-show" is a missed visit, not a negation (a pseudo-trigger: it outruns "no" and ": no").
    {
        "category": "NEGATED_EXISTENCE",
        "literal": "no-show",
        "direction": "PSEUDO",
        "pattern": [
            {"LOWER": "no"},
            {"ORTH": "-", "OP": "?"},
            {"LOWER": {"IN": ["show", "shows", "showed"]}},
        ],
    },
    # Clauses a semicolon separates are read apart ("status: overdue; note: No answer"), as sentences are.
    {"category": "NEGATED_EXISTENCE", "literal": ";", "direction": "TERMINATE"},
    # "Ex-smoker", "former smoker": the habit is in the past. (Not "quit smoking": advice in a plan
    # as often as history; see ``CESSATION``.)
    {
        "category": "HISTORICAL",
        "literal": "ex-",
        "direction": "FORWARD",
        "pattern": [{"LOWER": {"IN": ["ex", "former", "formerly", "previously"]}}, {"ORTH": "-", "OP": "?"}],
        "max_scope": 3,
    },
)
# "Quit smoking - resources given" (advice to a smoker) or "quit smoking in 2010" (history): a sentence
# about stopping a habit says neither yes nor no of it.
CESSATION = re.compile(r"\b(quit\w*|stop(ped|s)?|gave up|give up|cessation|cut down|cutting down)\b", re.I)


@dataclass(frozen=True)
class Modifier:
    """One trigger found in a text: its category, its own span and the span it modifies (characters)."""

    category: Category | None  # None: a terminating or pseudo trigger, which modifies nothing
    start: int
    end: int
    scope_start: int
    scope_end: int
    concept: str = ""  # a SELF trigger's concept, written out ("smoker" for "nonsmoker")


@dataclass(frozen=True)
class Mention:
    """One word of a text and how it is asserted: ``word`` as written (lower case), ``categories`` the
    modifiers whose scope holds it (empty: asserted plainly, the patient has it now)."""

    word: str
    start: int
    end: int
    categories: frozenset[Category]


@dataclass(frozen=True)
class _Rule:
    category: Category | None
    direction: str
    max_scope: int | None
    concept: str
    trigger_tokens: int | None  # only the match's first tokens are the trigger (the rest is context)


@dataclass
class _Scope:
    """A matched trigger (token offsets) and the tokens it modifies, ``lo``..``hi``, while scopes are cut."""

    rule: _Rule
    start: int
    end: int
    lo: int
    hi: int


class _Engine:
    """The tokenizer and matchers, built once (``engine``)."""

    def __init__(self) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = spacy.blank("en")
        self.matcher = Matcher(self.nlp.vocab)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.rules: dict[str, _Rule] = {}
        for i, rule in enumerate((*CONTEXT_RULES, *EXTRA_RULES)):
            key = f"r{i}"
            direction = str(rule["direction"]).upper()
            category = CATEGORIES[rule["category"]] if direction not in ("TERMINATE", "PSEUDO") else None
            self.rules[key] = _Rule(
                category,
                direction,
                rule.get("max_scope"),
                rule.get("concept", ""),
                rule.get("trigger_tokens"),
            )
            if rule.get("pattern"):
                self.matcher.add(key, [rule["pattern"]])
            else:
                self.phrases.add(key, [self.nlp.make_doc(rule["literal"])])

    def modifiers(self, text: str, offset: int) -> list[Modifier]:
        # Tokens by one regex, so that offsets are the text's and spacing never makes a token
        # ("ALLERGIES:,  None." is "allergies : , none ."); spaCy's tokenizer would keep the spaces.
        toks: list[tuple[int, int]] = []
        for m in _TOKEN.finditer(text):
            if m.group() == "," and toks and text[toks[-1][0]] == ":":
                continue  # MTSamples' "ALLERGIES:, None.": the comma is the export's, not the sentence's
            toks.append((m.start(), m.end()))
        if not toks:
            return []
        from spacy.tokens import Doc

        words = [text[a:b] for a, b in toks]
        doc = Doc(self.nlp.vocab, words=words)
        found = [(self.nlp.vocab.strings[m], s, e) for m, s, e in (*self.matcher(doc), *self.phrases(doc))]
        found = [
            (key, s, min(e, s + n) if (n := self.rules[key].trigger_tokens) else e) for key, s, e in found
        ]
        kept: list[tuple[str, int, int]] = []
        for key, s, e in sorted(found, key=lambda m: (m[1] - m[2], m[1])):
            if all(e <= ks or s >= ke for _, ks, ke in kept):
                kept.append((key, s, e))
        kept.sort(key=lambda m: m[1])
        spans: list[_Scope] = []
        n = len(toks)
        for key, s, e in kept:
            rule = self.rules[key]
            lo, hi = 0, n
            if rule.direction == "FORWARD":
                lo, hi = e, n if rule.max_scope is None else min(n, e + rule.max_scope)
            elif rule.direction == "BACKWARD":
                lo, hi = (0 if rule.max_scope is None else max(0, s - rule.max_scope)), s
            elif rule.direction == "SELF":
                lo, hi = s, e
            elif rule.max_scope is not None:  # bidirectional
                lo, hi = max(0, s - rule.max_scope), min(n, e + rule.max_scope)
            spans.append(_Scope(rule, s, e, lo, hi))
        # A terminating trigger, or another of the same category, ends a scope (ConTextModifier.limit_scope).
        for a in spans:
            for b in spans:
                if a is b or a.rule.direction in ("TERMINATE", "PSEUDO", "SELF"):
                    continue
                if not (a.lo < b.hi and b.lo < a.hi):
                    continue
                if b.rule.direction != "TERMINATE" and b.rule.category != a.rule.category:
                    continue
                if a.rule.direction in ("FORWARD", "BIDIRECTIONAL") and b.start > a.start:
                    a.hi = min(a.hi, b.start)
                if a.rule.direction in ("BACKWARD", "BIDIRECTIONAL") and b.start < a.start:
                    a.lo = max(a.lo, b.end)
        out: list[Modifier] = []
        for sc in spans:
            rule, s, e, lo, hi = sc.rule, sc.start, sc.end, sc.lo, sc.hi
            if rule.direction == "PSEUDO":
                continue
            start, end = toks[s][0], toks[e - 1][1]
            scope_start = toks[lo][0] if lo < n else len(text)
            scope_end = toks[hi - 1][1] if hi > lo else scope_start
            out.append(
                Modifier(
                    rule.category,
                    offset + start,
                    offset + end,
                    offset + scope_start,
                    offset + scope_end,
                    rule.concept,
                )
            )
        return out


# Words, "n't" apart ("doesn't" is "does n't", as medSpaCy's rules spell it), and every other mark alone.
_TOKEN = re.compile(r"[A-Za-z]+(?=n't)|n't|[A-Za-z0-9]+|[^\sA-Za-z0-9]")


@lru_cache(maxsize=1)
def engine() -> _Engine:
    """The ConText engine, built on first use (about 0.1 s: spaCy's blank English and 109 rules)."""
    return _Engine()


@lru_cache(maxsize=16384)
def modifiers(text: str) -> tuple[Modifier, ...]:
    """Every modifier of ``text``, sentence by sentence (a scope never crosses a sentence's end)."""
    eng = engine()
    out: list[Modifier] = []
    for s, e in split_sentences(text, 0, 0, len(text)):
        out.extend(eng.modifiers(text[s:e], s))
    return tuple(out)


# A word with its elision ("patient's", "don't"): not ``terms.plain_words``, which would split off an
# "s" or "t" that then reads as a word of its own, with offsets (``finditer``) kept.
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?", re.I)


def mentions(text: str) -> list[Mention]:
    """Every word of ``text`` with the categories that modify it; a trigger's own words modify nothing
    (in "denies tobacco", "tobacco" is negated, "denies" is not), except a SELF trigger's concept."""
    mods = modifiers(text)
    out: list[Mention] = []
    for m in _WORD.finditer(text):
        start, end = m.start(), m.end()
        if any(md.start <= start < md.end for md in mods):
            continue
        cats = frozenset(
            md.category
            for md in mods
            if md.category is not None and md.scope_start <= start and end <= md.scope_end
        )
        out.append(Mention(m.group().lower(), start, end, cats))
    for md in mods:
        if md.concept and md.category is not None:
            out.extend(
                Mention(w.lower(), md.start, md.end, frozenset({md.category})) for w in md.concept.split()
            )
    return out


def root(word: str) -> str:
    """A word's crude root, so that a question's word finds a note's ("smoke", "smoker", "smoking",
    "smoked" → "smok"; "allergies", "allergic", "allergy" → "aller")."""
    w = word.lower()
    for suffix in ("ies", "ing", "ers", "er", "ed", "es", "ic", "s", "e", "y"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    return w[:5]


def negated_terms(text: str) -> frozenset[str]:
    """The roots of the words ``text`` mentions only as negated (never plainly): what it denies."""
    plain: set[str] = set()
    negated: set[str] = set()
    for m in mentions(text):
        if m.word in STOP_WORDS:
            continue
        (negated if "negated" in m.categories else plain).add(root(m.word))
    return frozenset(negated - plain)


def affirmed_terms(text: str) -> frozenset[str]:
    """The roots of the words ``text`` states plainly (not negated, hypothetical, of the family or
    only possible): what it asserts the patient has or does, now or in the past."""
    return frozenset(
        root(m.word)
        for m in mentions(text)
        if m.word not in STOP_WORDS and not m.categories & ({"negated"} | NOT_THE_PATIENTS)
    )


Polarity = Literal["yes", "no", "past"]
# One word of a yes/no question's topic with the words a note or record may say it with, any one naming it.
Group = frozenset[str]
# Words a question and a note say one habit or situation with (the C-CDA social history elements).
_TOBACCO = ("smoke", "tobacco", "cigarette", "cigar", "nicotine")
_ALCOHOL = ("drink", "alcohol", "etoh", "beer", "wine", "liquor")
TOPIC_SYNONYMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_TOBACCO, _TOBACCO),
    **dict.fromkeys(_ALCOHOL, _ALCOHOL),
    **dict.fromkeys(
        ("herself", "himself", "themselves", "alone"), ("alone", "herself", "himself", "themselves")
    ),
    "illicit": ("illicit", "recreational"),
}
# Words of a yes/no question that name no topic ("does she have any known allergies?").
_FRAME = frozenset(
    "any ever known currently use uses using used habit habits history hx patient pt baby kid child "
    "have has had does do did is are was were".split()
)
_YES_NO = re.compile(r"^\W*(does|do|did|is|are|was|were|has|have|had|any|can|could|will|would)\b", re.I)
_PARTS = re.compile(r"\b(?:or|and|nor)\b|[,;/]")


@lru_cache(maxsize=1)
def _SYNONYMS_BY_ROOT() -> dict[str, tuple[str, ...]]:
    return {root(k): v for k, v in TOPIC_SYNONYMS.items()}


def asks_yes_no(question: str) -> bool:
    """Is ``question`` a yes/no question ("does she smoke?", "any allergies?")?"""
    return bool(_YES_NO.match(question))


def yes_no_topic(question: str, ignore: Iterable[str] = ()) -> tuple[tuple[Group, ...], ...]:
    """A yes/no question's topic: its parts ("smoke or drink": two), each the words that must all be
    spoken of, each word with its synonyms. Empty when the question is not yes/no. ``ignore``: words
    that name no topic here (the patient's own name: "does alvin smoke")."""
    skip = {w.lower() for w in ignore}
    if not asks_yes_no(question):
        return ()
    body = _YES_NO.sub("", question, count=1)
    parts: list[tuple[Group, ...]] = []
    for piece in _PARTS.split(body):
        groups = tuple(
            frozenset({w, *_SYNONYMS_BY_ROOT().get(root(w), ())})
            for w in (x.lower() for x in _WORD.findall(piece))
            if w not in STOP_WORDS and w not in _FRAME and w not in skip and not w.isdigit() and len(w) > 2
        )
        if groups:
            parts.append(groups)
    return tuple(parts)


def polarity(text: str, part: Sequence[Group]) -> Polarity | None:
    """What ``text`` says of one topic ``part``: "no" when every mention of it is negated, "past" when
    every one is historical, "yes" when every one is plain; None unless every word of the part is
    spoken of, or when it is only of someone else or hypothetical, or said more than one way."""
    wanted = [{root(w) for w in group} for group in part]
    if not wanted:
        return None
    # A record's "Tobacco smoking status: Never smoked tobacco": the field's name mentions the topic,
    # its value says how it stands; read the value when it mentions the topic.
    _label, colon, value = text.partition(":")
    if colon and any(root(w) in roots for w in _WORD.findall(value) for roots in wanted):
        text = value
    if CESSATION.search(text):
        return None
    said: set[Polarity] = set()
    spoken = [False] * len(wanted)
    for m in mentions(text):
        hit = [i for i, roots in enumerate(wanted) if root(m.word) in roots]
        if not hit or m.categories & NOT_THE_PATIENTS:
            continue
        for i in hit:
            spoken[i] = True
        if "negated" in m.categories:
            said.add("no")
        elif "historical" in m.categories:
            said.add("past")
        else:
            said.add("yes")
    return next(iter(said)) if all(spoken) and len(said) == 1 else None


def answer_polarity(texts: Sequence[str], topic: Sequence[Sequence[Group]]) -> Polarity | None:
    """The answer ``texts`` give to a yes/no question about ``topic``: the one polarity every part
    of the topic has, each agreed by the texts that speak of it; None when any part is unspoken of
    or the texts disagree."""
    found: set[Polarity] = set()
    for part in topic:
        said: set[Polarity | None] = {polarity(t, part) for t in texts if names_topic(t, [part])}
        # A sentence naming the topic that says nothing plain of it ("Quit smoking - resources given")
        # leaves the answer open: no lead, the sentences speak for themselves.
        if len(said) != 1 or None in said:
            return None
        found |= {p for p in said if p is not None}
    return next(iter(found)) if len(found) == 1 else None


def names_topic(text: str, topic: Sequence[Sequence[Group]]) -> bool:
    """Does ``text`` name a word of the topic (any part, any synonym), however asserted ("nonsmoker"
    names smoking)? A substring test first; ConText's mentions only for a text that may."""
    roots = {root(w) for part in topic for group in part for w in group}
    lowered = text.lower()
    return any(r in lowered for r in roots) and any(root(m.word) in roots for m in mentions(text))


def speaks_to(text: str, topic: Sequence[Sequence[Group]]) -> bool:
    """Does some sentence of ``text`` assert (yes, no or in the past) a part of a yes/no topic? Only
    sentences naming a topic word are read by ConText (a substring test first: most say nothing of it)."""
    roots = {root(w) for part in topic for group in part for w in group}
    lowered = text.lower()
    if not any(r in lowered for r in roots):
        return False
    for s, e in split_sentences(text, 0, 0, len(text)):
        sentence = text[s:e]
        if any(r in sentence.lower() for r in roots) and any(polarity(sentence, part) for part in topic):
            return True
    return False


# English's common prepositions (a closed word class): in a yes/no question they open the setting the
# finding is asked in ("did she aspirate | on the swallow study", "any falls | since discharge").
_PREPOSITION = re.compile(
    r"\b(?:on|at|in|during|after|before|since|from|for|with|without|of|by|about|over|under|within|"
    r"following|while|when)\b",
    re.I,
)


def yes_no_finding(question: str, ignore: Iterable[str] = ()) -> tuple[Group, ...]:
    """The finding a yes/no question asks about: its topic words before the first preposition ("did
    she aspirate on the swallow study" → aspirate), the words after it being the setting; the whole
    topic when no topic word comes before one. Empty when the question is not yes/no."""
    topic = yes_no_topic(question, ignore)
    everything = tuple(group for part in topic for group in part)
    if not everything:
        return ()
    head = _PREPOSITION.split(_YES_NO.sub("", question, count=1), maxsplit=1)[0]
    head_words = {w.lower() for w in _WORD.findall(head)}
    finding = tuple(group for group in everything if group & head_words)
    return finding or everything


def asserting(texts: Sequence[str], finding: Sequence[Group]) -> list[int]:
    """Which of ``texts`` assert a yes/no question's ``finding`` (``yes_no_finding``), negated or
    affirmed (now or in the past), as ConText reads them: "No aspiration was noted" and "Aspiration
    with thin liquids" do, "to rule out aspiration" (possible), "if she aspirates" (hypothetical) and
    "mother drinks" (family) do not.

    Of a finding of several words, the one the texts name least is asserted (inverse document
    frequency, Spärck Jones 1972, over the candidate sentences: the words named everywhere say least).
    Empty when no text names the finding, or none asserts it."""
    groups = [{root(w) for w in group} for group in finding]
    if not groups:
        return []
    said = [[(root(m.word), m.categories) for m in mentions(t)] for t in texts]
    named = [sum(any(r in roots for r, _ in ms) for ms in said) for roots in groups]
    if not any(named):
        return []
    roots = groups[min((n, k) for k, n in enumerate(named) if n)[1]]
    out: list[int] = []
    for k, ms in enumerate(said):
        cats = [c for r, c in ms if r in roots]
        # Every mention of the finding is the patient's own (a hedged one makes the sentence unsure).
        if cats and not any(c & NOT_THE_PATIENTS for c in cats):
            out.append(k)
    return out

"""Named cues: the words and patterns a question is read by, each with where it comes from.

A cue is one reading rule's evidence ("ER", "ED", "emergency" → the emergency encounter class), with
a provenance (``standard``: a published code system or specification; ``curated``: written for this
product from the questions of the issues; ``learned``: fitted to data) and a short citation of its
source. Each can be switched off by name (``Settings.disabled_cues``, ``CARECITE_DISABLED_CUES``): a
disabled cue never fires, so its effect on the answers can be measured one cue at a time. The names
of the cues a question fired go into its ``Reading`` and the request's audit record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Provenance = Literal["standard", "curated", "learned"]


@dataclass(frozen=True)
class Cue:
    """Fires on a question whose tokens hold one of ``words`` or whose text matches ``pattern``."""

    name: str
    provenance: Provenance
    source: str  # a short citation: "HL7 v3 ActEncounterCode", "curated (issue 27)"
    words: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None


# Every cue by name, registered where the rule reading it is defined (``kind``, ``intent``); all of
# them once ``reading.reading`` is imported (``reading.all_cues``).
REGISTRY: dict[str, Cue] = {}


def cue(
    name: str,
    provenance: Provenance,
    source: str,
    *,
    words: Iterable[str] = (),
    pattern: re.Pattern[str] | str | None = None,
) -> Cue:
    """Register a cue; a name is registered once (two rules never share a switch)."""
    if name in REGISTRY:
        raise ValueError(f"cue {name!r} is registered twice")
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    registered = REGISTRY[name] = Cue(name, provenance, source, frozenset(words), compiled)
    return registered


@dataclass
class CueRun:
    """One reading's cues: which are switched off, and which have fired so far (in order)."""

    disabled: frozenset[str] = frozenset()
    fired: list[str] = field(default_factory=list)

    def allows(self, c: Cue) -> bool:
        """Is ``c`` switched on? For a reader that decides itself whether it fired (``fire``)."""
        return c.name not in self.disabled

    def fire(self, c: Cue) -> None:
        if c.name not in self.fired:
            self.fired.append(c.name)

    def hit(self, c: Cue, toks: Iterable[str] = (), text: str = "") -> bool:
        """Does ``c`` fire on the question's tokens or text? Never when it is disabled."""
        if c.name in self.disabled:
            return False
        found = bool(c.words.intersection(toks)) or (
            c.pattern is not None and c.pattern.search(text) is not None
        )
        if found:
            self.fire(c)
        return found

    def search(self, c: Cue, text: str) -> re.Match[str] | None:
        """``c``'s pattern searched in ``text``; None when disabled or absent."""
        if c.name in self.disabled or c.pattern is None:
            return None
        m = c.pattern.search(text)
        if m is not None:
            self.fire(c)
        return m

    def finditer(self, c: Cue, text: str) -> list[re.Match[str]]:
        if c.name in self.disabled or c.pattern is None:
            return []
        found = list(c.pattern.finditer(text))
        if found:
            self.fire(c)
        return found

"""Text every store can hold: what arrives at the edge (API, CLI, UI) is cleaned before anything
stores or queries it.

Two inputs broke the stores (issue 28): a lone UTF-16 surrogate (``"\\udc00"``, which JSON allows) has
no UTF-8 encoding, so SQLite's driver raised; and NUL (``"\\u0000"``) is refused by PostgreSQL in
any text value, so a NUL question was answered and then its audit INSERT failed. Both became 500s
with no audit record. A lone surrogate becomes U+FFFD (the replacement character) and NUL and the
other C0 controls except tab, newline and carriage return are removed: the request then runs and
is audited like any other (an id cleaned this way matches nothing, so it is denied like an unknown
one).
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def storable(text: str) -> str:
    """``text`` without lone surrogates (→ U+FFFD) and without NUL / C0 controls (tab, newline kept)."""
    if text.isascii() and text.isprintable():
        return text  # the common case, at no cost
    return _CONTROL.sub("", _LONE_SURROGATE.sub("\ufffd", text))


def storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable(text)

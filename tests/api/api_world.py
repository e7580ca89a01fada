"""The cast the API tests ask about, and small helpers (the adversarial suite uses the same people)."""

from __future__ import annotations

from collections.abc import Callable

# The cast (synthetic_data/README.md "who sees whom"; the adversarial suite uses the same people).
MERCY_PSY = "745a1a03-c4d1-50c9-b334-dd3bf948e592"  # Mercy; PSY notes; md-farah (no PSY), rn-dana (PSY)
NORTH_ETH = "a47d7ef0-2fbc-58eb-9cab-5ef09e92c33e"  # Northside; ETH notes; cc-omar (PSY only), bh-hana (both)
LAKESIDE_NOT_AMY = "4d307e8a-97f7-573b-9e0b-ec5b2268f0a1"  # Lakeside, cc-amy is not on its active team
LAKESIDE_INJECTED = "15a7e712-528b-5156-ac69-1d06ce9e5dbb"  # Lakeside; md-farah (Mercy/Harbor) may not see it
UNKNOWN_PATIENT = "00000000-dead-beef-0000-000000000000"
REASON = "Patient unresponsive in the ED; reviewing history for an emergency decision."
QUESTION = "What follow-up tasks are outstanding?"


# token("md-farah", "user/*.rs", patient=None, ttl_s=None, ...) → a signed dev JWT (conftest.py)
Token = Callable[..., str]


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}

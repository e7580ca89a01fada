"""Windows-1252 leftovers put back; ordinary text, however non-ASCII, left exactly as it is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecite.text.repair import decode_bytes, repair_text


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ("patientâ€™s", "patient’s"),
        ("cafÃ© â€œokâ€\x9d", "café “ok”"),
        ("patient\x92s \x93quoted\x94", "patient’s “quoted”"),
        ("physician\ufffds service", "physician’s service"),
        ("described in \ufffd160.27; see (\ufffd\ufffd20, 20.4)", "described in §160.27; see (§§20, 20.4)"),
        ("a \ufffd b", "a \ufffd b"),  # the lost byte is unknown here: left as it is
    ],
)
def test_leftovers_are_put_back(stored: str, written: str) -> None:
    assert repair_text(stored) == written


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffd")))
def test_text_without_leftovers_is_unchanged(text: str) -> None:
    if any(0xC2 <= ord(ch) <= 0xF4 for ch in text):  # a lead byte could start mojibake: checked below
        return
    assert repair_text(text) == text


def test_ordinary_accented_text_is_unchanged() -> None:
    text = "Zoë Müller, naïve, señor, Ångström, São Paulo, Düsseldorf — ≥ 3× “quoted” façade"
    assert repair_text(text) == text


def test_bytes_decode_as_utf8_else_windows_1252() -> None:
    assert decode_bytes("patient’s café".encode()) == "patient’s café"
    assert decode_bytes("patient’s café".encode("cp1252")) == "patient’s café"
    with pytest.raises(LookupError):
        decode_bytes(b"x", "no-such-charset")

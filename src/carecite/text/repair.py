"""Windows-1252 leftovers in text, put back to what the author wrote.

Three kinds reach carecite from real documents:

* **Mojibake**: UTF-8 bytes read as Windows-1252 ("patientâ€™s", "cafÃ©"). Each run is re-encoded
  and decoded as UTF-8; a run that does not decode is left alone, so ordinary text never changes.
* **C1 controls** (U+0080–U+009F): Windows-1252 bytes read as Latin-1 (U+0092 for a right quote).
  They are never text, so each becomes the Windows-1252 character of its byte.
* **U+FFFD**: a Windows-1252 byte that a UTF-8 decoder replaced (the CMS NCD export: "patient�s",
  "described in �160.27"). The byte is gone, so only the unambiguous places are restored: between
  two letters it was an apostrophe (byte 0x92, as in "patient’s"), and one or two of them right
  before a section number were section signs (byte 0xA7, "§160.27", "§§20"). Elsewhere it stays.

``repair_text`` is applied where text enters carecite (note attachments, policies) and again where
the UI shows text, so data ingested before this existed shows as written too.
"""

from __future__ import annotations

import re

# byte 0x80..0xFF -> the character a Windows-1252 (else Latin-1, for its five undefined bytes) reader made of it
_BYTE_OF: dict[str, int] = {}
for _b in range(0x80, 0x100):
    try:
        _BYTE_OF[bytes([_b]).decode("cp1252")] = _b
    except UnicodeDecodeError:
        _BYTE_OF[chr(_b)] = _b
_CONT = "".join(re.escape(ch) for ch, b in _BYTE_OF.items() if 0x80 <= b <= 0xBF)
_LEAD = "".join(re.escape(ch) for ch, b in _BYTE_OF.items() if 0xC2 <= b <= 0xF4)
_MOJIBAKE = re.compile(f"[{_LEAD}][{_CONT}]{{1,3}}")
_C1 = re.compile("[\u0080-\u009f]")
_WORD_APOSTROPHE = re.compile(r"(?<=[^\W\d_])\ufffd(?=[^\W\d_])")
_SECTION_SIGNS = re.compile(r"(?:(?<=[\s(,;])|^)(\ufffd{1,2})(?=\s?\d)")


def _unmojibake(m: re.Match[str]) -> str:
    run = m.group(0)
    try:
        return bytes(_BYTE_OF[ch] for ch in run).decode("utf-8")
    except UnicodeDecodeError:
        return run


def _c1(m: re.Match[str]) -> str:
    try:
        return bytes([ord(m.group(0))]).decode("cp1252")
    except UnicodeDecodeError:
        return m.group(0)


def repair_text(text: str) -> str:
    """``text`` with Windows-1252 leftovers put back (see the module doc); other text unchanged."""
    if text.isascii():
        return text
    text = _MOJIBAKE.sub(_unmojibake, text)
    text = _C1.sub(_c1, text)
    if "\ufffd" in text:
        text = _WORD_APOSTROPHE.sub("\u2019", text)
        text = _SECTION_SIGNS.sub(lambda m: "\u00a7" * len(m.group(1)), text)
    return text


def decode_bytes(raw: bytes, charset: str = "utf-8") -> str:
    """Bytes as text: the declared charset, else Windows-1252 when the bytes are not valid UTF-8
    (text/plain attachments without a charset are often Windows-1252), then repaired.
    Raises ``UnicodeDecodeError`` / ``LookupError`` only for a declared charset that fails."""
    try:
        text = raw.decode(charset)
    except UnicodeDecodeError:
        if charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise
        text = raw.decode("cp1252", errors="replace")
    return repair_text(text)

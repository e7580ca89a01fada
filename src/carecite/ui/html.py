"""Text to HTML for the Streamlit pages: escaped always (notes carry "<script>" and injection
bait), spans highlighted, citation markers as chips, Markdown characters made literal."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from carecite.text.dates import written_dates
from carecite.text.repair import repair_text

# One pass, one table: the HTML characters (& < > " ') and the characters Streamlit's Markdown would
# otherwise interpret ($ math, :emoji:, [links], *emphasis*, `code`, ~strike~, # headings) each become
# a numeric entity. Numeric entities are literal text to a Markdown parser, so escaped text renders
# exactly as the source says. A single translation matters: escaping HTML first and the Markdown
# characters after turned html.escape's own "&#x27;" into "&&#35;x27;", shown as "&#x27;".
_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'$:[]*_`~#|\\{}!"})
MARK_STYLE = "background:#ffe066;color:inherit;padding:0 1px;border-radius:2px"


def escape_text(text: str) -> str:
    """Text safe to embed in ``st.markdown(unsafe_allow_html=True)``: no tag, no Markdown, newlines kept."""
    return repair_text(text).translate(_ESCAPES).replace("\n", "<br>")


def merge_spans(spans: Iterable[Sequence[int]], length: int) -> list[tuple[int, int]]:
    """Clamp spans to ``[0, length]``, drop empty ones, merge overlapping or touching ones, sort."""
    clean = sorted(
        (max(0, int(s[0])), min(length, int(s[1]))) for s in spans if len(s) == 2 and int(s[1]) > int(s[0])
    )
    out: list[tuple[int, int]] = []
    for start, end in clean:
        if start >= end:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def highlight_html(text: str, spans: Iterable[Sequence[int]], *, mark_id: str | None = None) -> str:
    """``text`` escaped, each span wrapped in ``<mark>``. Offsets index the raw text (escaping happens
    per segment, after slicing, so entities never shift a span). The first mark gets ``mark_id``."""
    parts: list[str] = []
    pos = 0
    for i, (start, end) in enumerate(merge_spans(spans, len(text))):
        parts.append(escape_text(text[pos:start]))
        ident = f' id="{html.escape(mark_id)}"' if mark_id and i == 0 else ""
        parts.append(
            f'<mark class="cc-cited"{ident} style="{MARK_STYLE}">{escape_text(text[start:end])}</mark>'
        )
        pos = end
    parts.append(escape_text(text[pos:]))
    return "".join(parts)


def source_box_html(text: str, spans: Iterable[Sequence[int]], *, max_height: int = 260) -> str:
    """A bordered, scrollable box with the highlighted text, one HTML block (no blank lines)."""
    return (
        f'<div class="cc-source" style="border:1px solid rgba(128,128,128,.35);border-radius:6px;'
        f'padding:.5rem .75rem;max-height:{max_height}px;overflow-y:auto;font-size:.9rem;line-height:1.45">'
        f"{highlight_html(text, spans)}</div>"
    )


# The only script the UI ever runs: scroll the note's own box (not the page) so the first mark is in
# view, once the box has a size (expanders lay their content out only when opened).
_SCROLL_SCRIPT = (
    "<script>(function(){var box=document.getElementById('note');"
    "function go(){var m=document.getElementById('cited');if(!m||!box.clientHeight)return false;"
    "box.scrollTop=Math.max(0,m.offsetTop-box.offsetTop-box.clientHeight/3);return true;}"
    "if(!go()){new ResizeObserver(function(_,o){if(go())o.disconnect();}).observe(box);}})();</script>"
)


def whole_note_document(note_text: str, spans: Iterable[Sequence[int]], *, height: int = 320) -> str:
    """A complete HTML document for ``st.iframe``: the whole note, cited spans highlighted, scrolled to
    the first one. The note text is escaped exactly as for Markdown; the script is a constant."""
    body = highlight_html(note_text, spans, mark_id="cited")
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        "body{margin:0;font-family:'Source Sans Pro',sans-serif;font-size:14px;color:#31333f}"
        f"#note{{height:{height - 16}px;overflow-y:auto;padding:4px 8px;line-height:1.45}}"
        "</style></head><body>"
        f'<div id="note">{body}</div>{_SCROLL_SCRIPT}</body></html>'
    )


_MARKER = re.compile(r"\[(S\d+)\]")
CHIP_STYLE = (
    "display:inline-block;background:#e8f0fe;color:#1a4fa0;border-radius:10px;padding:0 6px;"
    "font-size:.8em;font-weight:600;margin:0 1px"
)


DATE_STYLE = (
    "display:inline-block;background:#f1f3f4;color:#3c4043;border-radius:4px;padding:0 4px;"
    "font-size:.8em;margin:0 2px"
)


def with_iso_dates_html(text: str) -> str:
    """``text`` escaped, each date written other than ``YYYY-MM-DD`` ("9/16/2026", a quote from a
    note, kept as written) followed by its ``YYYY-MM-DD`` form in a grey tag (``cc-date``): the
    answer reads in one date format without altering what it quotes."""
    out: list[str] = []
    pos = 0
    for d in written_dates(text):
        out.append(escape_text(text[pos : d.end]))
        out.append(
            f'<span class="cc-date" title="the same date as YYYY-MM-DD" style="{DATE_STYLE}">{d.iso}</span>'
        )
        pos = d.end
    out.append(escape_text(text[pos:]))
    return "".join(out)


def answer_with_chips_html(answer_text: str) -> str:
    """The answer escaped, each ``[Sn]`` marker turned into a citation chip (``<span class="cc-chip">``)
    and each date written in another format followed by its ``YYYY-MM-DD`` form (``cc-date``)."""
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(answer_text):
        out.append(with_iso_dates_html(answer_text[pos : m.start()]))
        out.append(f'<span class="cc-chip" style="{CHIP_STYLE}">{m.group(1)}</span>')
        pos = m.end()
    out.append(with_iso_dates_html(answer_text[pos:]))
    return f'<div class="cc-answer" style="font-size:1.05rem;line-height:1.6">{"".join(out)}</div>'


_MD_LABEL = re.compile(r"([\\`*_{}\[\]<>()#+!|$~:])")


def md_label(text: str) -> str:
    """Plain text for a widget label (labels are Markdown): every Markdown character backslash-escaped."""
    return _MD_LABEL.sub(r"\\\1", " ".join(repair_text(text).split()))


def bullets_html(lines: Iterable[str]) -> str:
    """An escaped bullet list for ``st.markdown(unsafe_allow_html=True)``."""
    return "<ul>" + "".join(f"<li>{escape_text(line)}</li>" for line in lines) + "</ul>"

"""Plain-words rendering of an Answer for the terminal (the UI has its own)."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from carecite.domain import Answer
from carecite.text.dates import written_dates


def highlighted(text: str, span: tuple[int, int]) -> Text:
    out = Text(text)
    start, end = span
    if 0 <= start < end <= len(text):
        out.stylize("bold black on yellow", start, end)
    return out


def with_iso_dates(text: str) -> Text:
    """``text`` as written, each date in another format followed by its ``YYYY-MM-DD`` form, dimmed
    (the UI's ``cc-date`` tag): one date format to read, the quote unaltered."""
    out = Text()
    pos = 0
    for d in written_dates(text):
        out.append(text[pos : d.end])
        out.append(f" ({d.iso})", style="dim")
        pos = d.end
    out.append(text[pos:])
    return out


def render_answer(answer: Answer, console: Console) -> None:
    if answer.declined:
        console.print(
            Panel(
                answer.decline_detail or "", title=f"declined: {answer.decline_reason}", border_style="yellow"
            )
        )
    else:
        console.print(Panel(with_iso_dates(answer.answer), title="answer", border_style="green", expand=True))
        table = Table("marker", "source", "cited text", show_lines=True)
        for c in answer.citations:
            table.add_row(c.marker, c.source_ref, highlighted(c.text, c.text_span or c.span))
        console.print(table)
    if answer.unsupported_sentences:
        console.print(f"[dim]removed by verification: {len(answer.unsupported_sentences)} sentence(s)[/]")
    total = answer.timings_ms.get("total", 0.0)
    console.print(f"[dim]request {answer.request_id} · {total:.0f} ms · model {answer.usage.model}[/]")

"""Progress of a long ingest step: a Rich bar on a terminal, and plain lines when there is none.

A Rich bar draws nothing when its console is not a terminal (``make demo-full > log``, CI, a
process manager), so minutes of embedding 352 policies looked like a hang. Without a terminal the
step prints one line each time another tenth of it is done, and one when it ends, on stderr so that
a command's stdout (``--json``) stays clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

STEPS = 10  # lines per step without a terminal: one per tenth done


class Advance(Protocol):
    def __call__(self, n: int = 1) -> None: ...


class LineProgress:
    """``label: done/total (pct%)`` on its own line, each time another tenth is done."""

    def __init__(self, label: str, total: int, console: Console) -> None:
        self.label, self.total, self.console = label, total, console
        self.done = 0
        self.shown = 0  # tenths already printed

    def advance(self, n: int = 1) -> None:
        self.done += n
        tenths = STEPS if self.done >= self.total else self.done * STEPS // self.total
        if tenths > self.shown:
            self.shown = tenths
            pct = 100 * min(self.done, self.total) // self.total
            self.console.print(
                f"{self.label}: {min(self.done, self.total)}/{self.total} ({pct}%)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


@contextmanager
def step_progress(
    label: str, total: int, *, enabled: bool, eta: bool = False, console: Console | None = None
) -> Iterator[Advance]:
    """Yield ``advance(n)`` for a step of ``total`` items: a transient Rich bar on a terminal,
    plain lines otherwise (see the module docstring), nothing when disabled or empty."""
    if not enabled or total <= 0:
        yield lambda n=1: None
        return
    out = console or Console(stderr=True)
    if not out.is_terminal:
        yield LineProgress(label, total, out).advance
        return
    columns = [TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn()]
    if eta:
        columns.append(TimeRemainingColumn())
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)

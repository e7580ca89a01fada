"""The ``carecite`` command: thin over the package. Exit codes: 0 ok, 1 failure, 2 bad input, 3 access denied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carecite.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
ingest_app = typer.Typer(no_args_is_help=True, help="Load data into the system of record and the indexes.")
users_app = typer.Typer(no_args_is_help=True, help="Manage users.")
audit_app = typer.Typer(no_args_is_help=True, help="Inspect and verify the audit trail.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print their figures.")
phi_app = typer.Typer(no_args_is_help=True, help="PHI detection tools.")
app.add_typer(ingest_app, name="ingest")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(bench_app, name="bench")
app.add_typer(phi_app, name="phi")

console = Console(stderr=True)
out = Console(soft_wrap=True)


class State:
    settings: Settings = Settings()


@app.callback()
def main(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="CARECITE_DATA_DIR", help="Holds every store.")
    ] = None,
) -> None:
    State.settings = Settings(data_dir=data_dir) if data_dir else Settings()


def fail(message: str, code: int) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)

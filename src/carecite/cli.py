"""carecite answers questions about one patient's record, notes and payer policies, every sentence
cited. Start with `carecite patients --user ID`, then `carecite ask QUESTION --user ID --patient MRN`.
Exit codes: 0 ok, 1 failure (a store that is unreachable says which, in one line), 2 bad input,
3 access denied."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from carecite.package_data import COMMITTED_WORLD
from carecite.settings import Settings

if TYPE_CHECKING:
    from carecite.ingest.policies import PolicyReport


class StoreFaultGroup(TyperGroup):
    """Every command's store faults in one place: a PostgreSQL or Chroma server that is down, or dies
    mid-command, is one line naming the store, its server and what to do, with exit 1; never a
    traceback. Any other exception is left alone (a bug should show its traceback)."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context (a private module)
        try:
            return super().invoke(ctx)
        except Exception as exc:
            from carecite.store_errors import store_fault_line

            ingesting = ctx.invoked_subcommand == "ingest"
            todo = (
                "start it (or fix its address in the settings), then run the same ingest again: "
                "it resumes where it stopped and converges"
                if ingesting
                else "start it (or fix its address in the settings), then run the command again"
            )
            line = store_fault_line(exc, State.settings, todo)
            if line is None:
                raise
            from rich.markup import escape

            console.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True, highlight=False)
            raise typer.Exit(1) from None


app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__, cls=StoreFaultGroup)
ingest_app = typer.Typer(no_args_is_help=True, help="Load data into the system of record and the indexes.")
users_app = typer.Typer(no_args_is_help=True, help="Manage users.")
audit_app = typer.Typer(no_args_is_help=True, help="Inspect and verify the audit trail.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print their figures.")
phi_app = typer.Typer(no_args_is_help=True, help="PHI detection tools.")
llm_app = typer.Typer(no_args_is_help=True, help="The configured LLM endpoint.")
token_app = typer.Typer(no_args_is_help=True, help="Dev bearer tokens for the HTTP API.")
app.add_typer(ingest_app, name="ingest")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(bench_app, name="bench")
app.add_typer(phi_app, name="phi")
app.add_typer(llm_app, name="llm")
app.add_typer(token_app, name="token")

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
    from carecite.privacy.log_redaction import configure_logging
    from carecite.wiring import build_redactor

    # Nothing carecite logs reaches stderr unredacted; Presidio loads only if something is logged.
    configure_logging(build_redactor)


def _store_fault(exc: BaseException) -> bool:
    from carecite.store_errors import store_unavailable

    return store_unavailable(exc) is not None


def fail(message: str, code: int) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


# --------------------------------------------------------------------------- users and audit (access/, audit/)
@users_app.command("import")
def users_import(
    file: Annotated[Path, typer.Argument(help="JSON list of users (DESIGN.md schema).")],
) -> None:
    """Load users from FILE: all of them, or none when any entry is invalid."""
    from carecite.access.users import UsersFileError, import_users
    from carecite.stores import Stores

    try:
        count = import_users(Stores(State.settings).engine, file)
    except UsersFileError as exc:
        raise fail(f"{exc} (nothing imported)", 2) from None
    out.print(f"imported {count} users")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        bool,
        typer.Option(
            "--anchor", help="Also require the last signed anchor's record unchanged (truncation, rewriting)."
        ),
    ] = False,
) -> None:
    """Walk the audit hash chain; exit 1 naming the first bad record."""
    from carecite.audit import AuditLog
    from carecite.stores import Stores

    settings = State.settings
    engine = Stores(settings).engine
    log = AuditLog(engine)
    if anchor:
        from carecite.audit.anchor import AnchorError, verify_against_anchor

        key_file = settings.resolved_audit_anchor_key_file
        if not key_file.exists():
            raise fail(f"no anchor key at {key_file}: run `carecite audit anchor` first", 2)
        try:
            result = verify_against_anchor(
                log, engine, bytes.fromhex(key_file.read_text().strip()), settings.resolved_audit_anchors_file
            )
        except AnchorError as exc:
            raise fail(str(exc), 1) from None
    else:
        result = log.verify()
    if not result.ok:
        raise fail(
            f"chain broken at seq {result.first_bad_seq} (request {result.first_bad_request_id}): "
            f"{result.problem}",
            1,
        )
    out.print(f"chain ok ({result.checked} records)")
    out.print(f"head hash {result.head_hash}")


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Append a signed checkpoint of the chain head to the anchors file (run on a schedule)."""
    from carecite.audit import AuditLog
    from carecite.audit.anchor import AnchorError, load_or_create_key, write_anchor
    from carecite.stores import Stores

    settings = State.settings
    key = load_or_create_key(settings.resolved_audit_anchor_key_file)
    try:
        made = write_anchor(AuditLog(Stores(settings).engine), key, settings.resolved_audit_anchors_file)
    except AnchorError as exc:
        raise fail(str(exc), 1) from None
    out.print(f"anchored seq {made.seq} head {made.hash} in {settings.resolved_audit_anchors_file}")


@audit_app.command("list")
def audit_list(
    kind: Annotated[
        str | None, typer.Option(help="ask|decline|denied|break_glass|source_view|security_event")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Only records of this user id.")] = None,
    request: Annotated[str | None, typer.Option("--request", help="Only records of this request id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest first, at most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list on stdout.")] = False,
) -> None:
    """List audit records (question and answer text is stored redacted)."""
    import json

    from rich.table import Table

    from carecite.audit import AUDIT_KINDS, AuditLog
    from carecite.stores import Stores

    if kind is not None and kind not in AUDIT_KINDS:
        raise fail(f"unknown kind {kind!r}; one of {', '.join(AUDIT_KINDS)}", 2)
    entries = AuditLog(Stores(State.settings).engine).records(
        kind=kind, user_id=user, request_id=request, limit=limit
    )
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
        return
    table = Table("seq", "ts", "kind", "user", "request", "cited", "decline", "question")
    for e in entries:
        table.add_row(
            str(e.seq),
            e.ts[:19],
            e.kind,
            e.user_id or "",
            e.request_id[:8],
            str(len(e.cited_ids)),
            e.decline_reason or "",
            (e.question or "")[:60],
        )
    out.print(table)


# --------------------------------------------------------------------------- ingest fhir and stats (ingest/fhir.py, stats.py)
@ingest_app.command("fhir")
def ingest_fhir(
    paths: Annotated[list[Path], typer.Argument(help="FHIR R4 bundle files or folders (*.json, recursive).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Ingest FHIR R4 bundles, idempotently. Exit 1 when any file or entry could not be loaded."""
    from carecite.ingest.fhir import ingest_fhir_paths, render_report
    from carecite.stores import Stores

    try:
        report = ingest_fhir_paths(Stores(State.settings), paths, progress=not quiet)
    except Exception as exc:  # a store failure after loading: SQL is consistent, re-run to converge
        if _store_fault(exc):
            raise  # one line naming the store (StoreFaultGroup)
        raise fail(f"ingest failed ({type(exc).__name__}: {exc}); re-run to converge", 1) from None
    render_report(report, out)
    if not report.ok:
        raise typer.Exit(1)


@ingest_app.command("policies")
def ingest_policies_cmd(
    path: Annotated[Path, typer.Argument(help="NCD JSONL file, or a folder of .txt/.md policy files.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Ingest coverage policies, idempotently. Exit 2 when the input, or any record in it, is bad."""
    from carecite.ingest.policies import PolicyInputError, ingest_policies
    from carecite.stores import Stores

    try:
        report = ingest_policies(Stores(State.settings), path, progress=not quiet)
    except PolicyInputError as exc:
        raise fail(f"{exc} (nothing ingested)", 2) from None
    except Exception as exc:  # a store failure after SQL committed: re-running converges
        if _store_fault(exc):
            raise  # one line naming the store (StoreFaultGroup)
        raise fail(f"ingest failed ({type(exc).__name__}: {exc}); re-run to converge", 1) from None
    _render_policy_report(report)
    if not report.ok:
        raise typer.Exit(2)


def _render_policy_report(report: PolicyReport) -> None:
    """Words for people: counts, then each warning and skipped record on its own line."""
    out.print(
        f"policies: {report.added} added, {report.updated} updated, {report.unchanged} unchanged; "
        f"{report.chunks} chunks written"
    )
    if report.sync is not None:
        s = report.sync
        out.print(
            f"indexes: +{s.added} -{s.removed} vectors; chunks sql={s.sql} vector={s.vector} lexical={s.lexical}"
        )
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    for e in report.errors:
        console.print(f"[bold red]skipped:[/] {e}")


@app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="The JSON contract on stdout.")] = False,
) -> None:
    """Counts per store; the SQL, vector and lexical chunk counts must agree."""
    import json

    from carecite.records.stats import collect_stats, stats_table
    from carecite.stores import Stores

    result = collect_stats(Stores(State.settings))
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        out.print(stats_table(result))


# --------------------------------------------------------------------------- synth (synth/dataset.py)
@app.command("synth")
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder: fhir/, users.json, gold.jsonl.")],
    patients: Annotated[int, typer.Option("--patients", min=1, max=100_000, help="How many patients.")] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Same seed and count → byte-identical output.")] = 7,
    no_gold: Annotated[bool, typer.Option("--no-gold", help="Skip the gold question file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Generate the deterministic synthetic world (FHIR R4 bundles, users, gold questions)."""
    from carecite.synth.dataset import generate

    if out_dir.exists() and not out_dir.is_dir():
        raise fail(f"{out_dir} exists and is not a folder", 2)
    manifest = generate(patients, seed, out_dir, gold=not no_gold, progress=not quiet)
    c = manifest.counts
    out.print(
        f"wrote {manifest.patients} patients, {c['notes']} notes, {c['gold']} gold questions to {out_dir} "
        f"(seed {seed}, as of {manifest.as_of.isoformat()})"
    )


# --------------------------------------------------------------------------- bench beir (evaluation/beir.py)
@bench_app.command("beir")
def bench_beir(
    path: Annotated[
        Path | None, typer.Argument(help="BEIR folder (default: <shared_data_dir>/beir_scifact).")
    ] = None,
    split: Annotated[str, typer.Option(help="qrels split to evaluate.")] = "test",
    depth: Annotated[int, typer.Option(min=1, help="Candidates per retriever, fused and re-ranked.")] = 100,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N queries (for iterating).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Figures as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """SciFact (BEIR): dense, BM25, RRF-fused and fused + re-ranked nDCG@10 / recall@100 in one run."""
    import json

    from carecite.evaluation.beir import BeirFormatError, render_report, run_benchmark
    from carecite.retrieval.rerank import RerankerConfigError, build_reranker
    from carecite.stores import Stores

    settings = State.settings
    folder = path or settings.shared_data_dir / "beir_scifact"
    if not folder.is_dir():
        raise fail(f"BEIR folder not found: {folder} (pass PATH or set CARECITE_SHARED_DATA_DIR)", 2)
    stores = Stores(settings)
    try:
        reranker = build_reranker(settings, stores.embedder)
        report = run_benchmark(
            folder,
            stores.embedder,
            reranker,
            cache_dir=settings.data_dir / "cache",
            split=split,
            depth=depth,
            rrf_k=settings.rrf_k,
            limit=limit,
            quiet=quiet or as_json,
        )
    except (BeirFormatError, RerankerConfigError) as exc:
        raise fail(str(exc), 2) from None
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        out.print(render_report(report))


# --------------------------------------------------------------------------- bench ingest / query (evaluation/bench.py)
def _int_list(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise fail(f"expected comma-separated integers, got {text!r}", 2) from None
    if not values or any(v < 1 for v in values):
        raise fail(f"expected positive integers, got {text!r}", 2)
    return values


@bench_app.command("ingest")
def bench_ingest(
    patients: Annotated[
        str,
        typer.Option(
            help="Comma-separated world sizes, e.g. 60,5000 (5000 takes ~2.5 h on 2 cores, most of it embedding)."
        ),
    ] = "60",
    seed: Annotated[int, typer.Option(help="Synthetic world seed.")] = 7,
    torch_threads: Annotated[int, typer.Option(min=0, help="Torch threads (0: torch default).")] = 1,
    raw_sample: Annotated[
        int,
        typer.Option(
            min=0,
            help="Time the raw encode on a seeded sample of this many texts when a world has more "
            "(0: every text). 5,000 patients have ~670k.",
        ),
    ] = 50_000,
    stand_in_embedder: Annotated[
        bool,
        typer.Option(
            "--stand-in-embedder",
            help="Embed with hash-seeded random vectors, no model, no raw encode: memory and SQL/index "
            "figures of a large world in minutes (5,000 patients ~15 min).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Figures as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Ingest throughput (notes/s, chunks/s, phases, peak RSS) vs raw MiniLM encoding of the same chunks.
    With CARECITE_CHROMA_HOST set, the chunk vectors go to that Chroma server (not in the peak RSS)."""
    import json

    from carecite.evaluation.bench import render_ingest, run_ingest_bench

    report = run_ingest_bench(
        _int_list(patients),
        seed=seed,
        torch_threads=torch_threads or None,
        progress=not (quiet or as_json),
        raw_limit=raw_sample or None,
        stand_in=stand_in_embedder,
    )
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        out.print(render_ingest(report))


@bench_app.command("query")
def bench_query(
    chunks: Annotated[int, typer.Option(min=0, help="Scale index size (0: skip the scale part).")] = 100_000,
    queries: Annotated[int, typer.Option(min=1, help="Questions timed per part.")] = 50,
    patients: Annotated[
        int, typer.Option(min=1, help="Generated patients whose notes seed the scale index.")
    ] = 1000,
    sample: Annotated[int, typer.Option(min=1, help="Chunks given a real MiniLM embedding.")] = 3000,
    committed: Annotated[bool, typer.Option(help="Also time Pipeline.ask on the committed world.")] = True,
    torch_threads: Annotated[int, typer.Option(min=0, help="Torch threads (0: torch default).")] = 1,
    plot: Annotated[bool, typer.Option(help="Write an HTML latency chart to <data-dir>/bench.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Figures as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    cold_runs: Annotated[
        int, typer.Option(min=0, help="Fresh `carecite ask` processes timed (median; 0: skip).")
    ] = 3,
    ui: Annotated[bool, typer.Option(help="Also time the first answer in a freshly started UI.")] = True,
) -> None:
    """Per-stage latency p50/p95: the committed world through ask, and retrieval at scale vs a naive baseline."""
    import json

    from carecite.evaluation.bench import render_query, run_query_bench

    if committed and not (SYNTHETIC_DATA / "gold.jsonl").is_file():
        raise fail(f"no committed world at {SYNTHETIC_DATA} (use --no-committed)", 2)
    report = run_query_bench(
        SYNTHETIC_DATA if committed else None,
        chunks=chunks,
        queries=queries,
        patients=patients,
        sample=sample,
        torch_threads=torch_threads or None,
        plot_dir=State.settings.data_dir / "bench" if plot else None,
        progress=not (quiet or as_json),
        cold_runs=cold_runs,
        ui=ui,
    )
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        out.print(render_query(report))


@phi_app.command("scan")
def phi_scan(
    path: Annotated[
        Path, typer.Argument(help="A .txt/.csv (transcription column)/.jsonl (text field) file or a folder.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Scan only the first N documents.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Count the PHI Presidio finds in a corpus, by entity type."""
    import json

    from carecite.privacy.redactor import PresidioRedactor
    from carecite.privacy.scan import ScanInputError, report_table, scan_path

    try:
        report = scan_path(PresidioRedactor(), path, limit=limit, progress=not (quiet or as_json))
    except ScanInputError as exc:
        raise fail(str(exc), 2) from None
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        out.print(report_table(report))


# --------------------------------------------------------------------------- the product: ask, ingest synthetic, demo
REPO_ROOT = Path(__file__).resolve().parents[2]  # only `demo` needs it: the Streamlit app lives in app/
SYNTHETIC_DATA = COMMITTED_WORLD  # package data: an installed wheel ingests the same world


@ingest_app.command("synthetic")
def ingest_synthetic_cmd(
    path: Annotated[Path, typer.Option(help="The synthetic world folder.")] = SYNTHETIC_DATA,
    policies: Annotated[
        bool, typer.Option(help="Also ingest the CMS coverage policies from shared data.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    write_vectors: Annotated[
        bool,
        typer.Option(
            help="Maintainers: embed the whole world and rewrite its shipped vectors (vectors/*.npz) "
            "for the current model. Needs an empty data dir."
        ),
    ] = False,
) -> None:
    """Ingest the committed synthetic world (bundles, users, as-of date) and, when present, CMS policies."""
    from carecite.ingest.fhir import render_report
    from carecite.ingest.vector_seed import seed_file
    from carecite.stores import Stores
    from carecite.synth.dataset import ingest_synthetic

    if not (path / "fhir").is_dir():
        raise fail(f"no synthetic world at {path} (expected {path / 'fhir'})", 2)
    stores = Stores(State.settings)
    if write_vectors and stores.vectors.count():
        raise fail(f"--write-vectors needs an empty data dir; {State.settings.data_dir} holds chunks", 2)
    report = ingest_synthetic(stores, path, progress=not quiet, write_vectors=write_vectors)
    render_report(report, out)
    if write_vectors:
        out.print(f"vectors written: {seed_file(path, stores.embedder.fingerprint)}")
    if policies:
        _ingest_shared_policies(stores, quiet=quiet)
    if not report.ok:
        raise typer.Exit(1)


def _ingest_shared_policies(stores: object, *, quiet: bool, only: set[str] | None = None) -> None:
    from carecite.ingest.policies import ingest_policies
    from carecite.stores import Stores

    assert isinstance(stores, Stores)
    source = State.settings.shared_data_dir / "cms_ncd" / "ncd_documents.jsonl"
    if not source.is_file():
        console.print(
            f"[yellow]skipped coverage policies:[/] {source} not found (coverage questions will decline)"
        )
        return
    _render_policy_report(ingest_policies(stores, source, progress=not quiet, only=only))


@app.command("ask")
def ask(
    question: Annotated[str, typer.Argument(help="The question, in plain words.")],
    user: Annotated[str, typer.Option("--user", help="Who is asking (a user id).")],
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient",
            help="The patient: FHIR Patient id, or MRN (as `carecite patients` lists them for you).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The ask --json contract on stdout.")] = False,
    break_glass: Annotated[
        str | None, typer.Option("--break-glass", help="Physicians and nurses: reason to see beyond scope.")
    ] = None,
    note_type: Annotated[list[str] | None, typer.Option("--note-type", help="Only these note types.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Encounter date from (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Encounter date to (YYYY-MM-DD).")] = None,
) -> None:
    """Answer a question about a patient, every sentence cited; exit 0 answer/decline, 2 bad input, 3 denied."""
    import json
    from datetime import date

    from carecite.answering.pipeline import AskRequest, BadInput
    from carecite.domain import Narrowing
    from carecite.wiring import build_pipeline

    try:
        narrowing = Narrowing(
            note_types=tuple(note_type or ()),
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
        )
    except ValueError as exc:
        raise fail(f"bad date: {exc}", 2) from None
    if patient is not None:
        patient = _patient_id(user, patient, break_glass)
    request = AskRequest(
        question=question, user_id=user, patient_id=patient, narrowing=narrowing, break_glass=break_glass
    )
    try:
        answer = build_pipeline(State.settings).ask(request)
    except BadInput as exc:
        raise fail(str(exc), 2) from None
    if as_json:
        print(json.dumps(answer.model_dump(mode="json"), indent=2))
    else:
        from carecite.ui.terminal import render_answer

        render_answer(answer, Console())
    if answer.decline_reason == "access_denied":
        raise typer.Exit(3)


def _patient_id(user: str, given: str, break_glass: str | None) -> str:
    """``--patient`` as the FHIR id it names for ``user`` (an id or an MRN within their scope). An
    unknown user, a bad break-glass reason or a patient not found is passed on unchanged: the pipeline
    denies it with its one message and exit 3, exactly as before."""
    from sqlmodel import Session

    from carecite.access.scope import AccessDenied, compute_scope, patient_id_for
    from carecite.stores import Stores

    with Session(Stores(State.settings).engine) as s:
        try:
            scope = compute_scope(s, user, break_glass=break_glass) if break_glass else compute_scope(s, user)
        except AccessDenied:
            return given
        return patient_id_for(s, scope, given)


@app.command("patients")
def patients_cmd(
    user: Annotated[str, typer.Option("--user", help="Whose patients (a user id).")],
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list on stdout.")] = False,
) -> None:
    """List the patients a user may ask about: FHIR id, MRN, name, birth date. Exit 3 for an unknown user."""
    import json

    from rich.table import Table
    from sqlmodel import Session

    from carecite.access.scope import AccessDenied, compute_scope, patients_in_scope
    from carecite.stores import Stores

    with Session(Stores(State.settings).engine) as s:
        try:
            scope = compute_scope(s, user)
        except AccessDenied as exc:
            raise fail(str(exc), 3) from None
        rows = [
            {
                "id": p.id,
                "mrn": p.mrn,
                "name": p.name,
                "birth_date": p.birth_date.isoformat() if p.birth_date else None,
            }
            for p in patients_in_scope(s, scope)
        ]
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    table = Table("MRN", "name", "born", "FHIR id (--patient takes either)", box=None)
    for r in rows:
        table.add_row(r["mrn"] or "—", r["name"], r["birth_date"] or "—", r["id"])
    out.print(table)
    out.print(f"{len(rows)} patient(s) {user} may ask about")


# --------------------------------------------------------------------------- the LLM endpoint (answering/llm_check.py)
@llm_app.command("check")
def llm_check(
    as_json: Annotated[bool, typer.Option("--json", help="The findings as JSON on stdout.")] = False,
) -> None:
    """Probe the configured endpoint (model, system role, max_tokens, a cited canary answer); exit 1 if unfit."""
    if not State.settings.llm_configured:
        raise fail("no LLM endpoint is configured (set OPENAI_BASE_URL and/or OPENAI_API_KEY)", 2)
    from carecite.answering.llm_check import run_llm_check
    from carecite.answering.llm_check_result import save_check
    from carecite.stores import Stores

    check = run_llm_check(State.settings, Stores(State.settings).embedder)
    save_check(State.settings, check)
    if as_json:
        print(check.model_dump_json(indent=2))
    else:
        print_llm_check(check)
    if not check.ok:
        raise typer.Exit(1)


def print_llm_check(check: object, console: Console | None = None) -> None:
    from rich.table import Table

    from carecite.answering.llm_check_result import LlmCheck

    assert isinstance(check, LlmCheck)
    c = console or out
    table = Table("check", "result", title=f"LLM endpoint {check.endpoint}")
    yes_no = {True: "yes", False: "no", None: "unknown"}
    table.add_row("reachable", yes_no[check.reachable])
    table.add_row("model", f"{check.model or 'unresolved'} (listed: {yes_no[check.model_listed]})")
    table.add_row("system role", check.system_role)
    table.add_row("max_tokens honoured", yes_no[check.max_tokens_honoured])
    table.add_row("canary answer with valid citations", yes_no[check.canary_ok])
    c.print(table)
    for finding in check.findings:
        c.print(f"  - {finding}")
    c.print("[bold]What carecite will do:[/]")
    for action in check.actions or ["Use the endpoint as configured."]:
        c.print(f"  - {action}")


def _log_llm_check_at_start(settings: Settings) -> None:
    """demo and serve: say what the endpoint can do before anyone asks (never fatal)."""
    if not settings.llm_configured:
        out.print("answering offline (no LLM endpoint configured): extractive answers from the sources")
        return
    from carecite.answering.llm_check import run_llm_check
    from carecite.answering.llm_check_result import save_check
    from carecite.stores import Stores

    check = run_llm_check(settings, Stores(settings).embedder)
    save_check(settings, check)
    print_llm_check(check, console)


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option(help="Port for the UI on localhost.")] = 8501,
    rebuild: Annotated[bool, typer.Option(help="Rebuild the demo data dir from scratch.")] = False,
    all_policies: Annotated[
        bool,
        typer.Option(
            help="All CMS coverage policies from shared data (352; minutes to embed), not only the "
            "ones the demo world's gold questions cite (`make demo-full`)."
        ),
    ] = False,
) -> None:
    """Build the demo data dir from synthetic_data/ if absent, then start the UI on localhost."""
    import os
    import shutil
    import subprocess
    import sys

    from carecite.ingest.fhir import render_report
    from carecite.stores import Stores
    from carecite.synth.dataset import cited_policies, ingest_synthetic

    settings = State.settings
    marker = settings.data_dir / ".demo-ready"
    if rebuild and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    wanted = "all" if all_policies else "cited"
    built = marker.read_text().strip() if marker.exists() else ""
    if built not in ("cited", "all"):  # absent, or a data dir from before the marker said which
        built = ""
    if not built or (wanted == "all" and built != "all"):
        stores = Stores(settings)
        if not built:
            out.print(f"1/3 loading the demo world into {settings.data_dir} (first run only)…")
            report = ingest_synthetic(stores, SYNTHETIC_DATA, progress=True)
            render_report(report, out)
            if not report.ok:
                raise typer.Exit(1)
        only = None if all_policies else cited_policies(SYNTHETIC_DATA)
        which = (
            "all CMS coverage policies"
            if only is None
            else f"the {len(only)} coverage policies the demo cites"
        )
        out.print(f"2/3 loading {which}…")
        _ingest_shared_policies(stores, quiet=False, only=only)
        marker.write_text(wanted + "\n")
    _log_llm_check_at_start(settings)
    env = {**os.environ, "CARECITE_DATA_DIR": str(settings.data_dir.resolve())}
    app_file = REPO_ROOT / "app" / "Home.py"
    out.print(f"3/3 carecite UI on http://localhost:{port}  (Ctrl+C to stop)")
    raise typer.Exit(subprocess.call(ui_command(sys.executable, app_file, port), env=env))


def ui_command(python: str, app_file: Path, port: int) -> list[str]:
    """The command that serves the UI: Streamlit on localhost with the models loading from the start,
    no usage statistics, and a minimal toolbar (no "Deploy" button: this UI is not a Streamlit app
    to publish; the same setting is in .streamlit/config.toml for a plain `streamlit run`)."""
    return [
        python,
        str(REPO_ROOT / "app" / "launch.py"),  # = `streamlit`, with the models loading from the start
        "run",
        str(app_file),
        "--server.port",
        str(port),
        "--server.address",
        "localhost",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


@app.command("eval")
def eval_cmd(
    split: Annotated[str, typer.Option(help="dev | test | all")] = "test",
    question_set: Annotated[
        str,
        typer.Option(
            "--set",
            help="independent, independent-demo, independent-synthea, independent-mtsamples (questions "
            "written by authors who never saw the code, frozen by hash; dev = author A, test = author B: "
            "the evidence), gold (the synthetic world's gold set), synthea (public Synthea bundles), "
            "synthea-wordings (the same questions in other everyday wordings), synthea-shorthand "
            "(both typed in clinical shorthand: pt, meds, appt, hx, d/c, f/u), synthea-items (drugs, "
            "conditions and procedures named by the record's own displays, and absent ones), mtsamples "
            "(public transcribed reports; answered by one section), mtsamples-wordings (every asked "
            "section of each report, in other wordings) or cms (Medicare NCDs; answered by "
            "the covered-indications subsection); real-data sets are ingested into the data dir "
            "first, ground truth computed from the data.",
        ),
    ] = "gold",
    limit: Annotated[
        int | None,
        typer.Option(help="Real-data sets: only the first N patients / reports / policies (a fast subset)."),
    ] = None,
    gold: Annotated[Path, typer.Option(help="Gold question file (JSONL).")] = SYNTHETIC_DATA / "gold.jsonl",
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    list_sets: Annotated[
        bool,
        typer.Option("--list", help="List every question set (size, authoring, hash, splits); run none."),
    ] = False,
) -> None:
    """Run a question set through the real pipeline and print answer, citation, decline and retrieval metrics."""
    from rich.table import Table

    from carecite.evaluation.gold import load_gold, report, run_gold, save_report
    from carecite.evaluation.independent import NotFrozen
    from carecite.wiring import build_pipeline

    if list_sets:
        _print_sets(as_json)
        return
    if split not in {"dev", "test", "all"}:
        raise fail(f"--split must be dev, test or all, not {split!r}", 2)
    if question_set == "gold":
        if not gold.is_file():
            raise fail(f"gold file not found: {gold}", 2)
        questions = load_gold(gold, split)
    else:
        from carecite.evaluation.sets import REAL_SETS, prepare_set, questions_for
        from carecite.stores import Stores

        if question_set not in REAL_SETS:
            raise fail(f"--set must be gold or one of {', '.join(REAL_SETS)}, not {question_set!r}", 2)
        shared = State.settings.shared_data_dir
        if not shared.is_dir():
            raise fail(f"public data not found at {shared} (set CARECITE_SHARED_DATA_DIR)", 2)
        try:
            asked = [
                q
                for q in questions_for(question_set, shared, limit=limit)
                if split == "all" or q.split == split
            ]
        except NotFrozen as exc:
            raise fail(str(exc), 2) from exc
        prepare_set(
            question_set, Stores(State.settings), shared, progress=not quiet and not as_json, limit=limit
        )
        questions = asked
    pipeline = build_pipeline(State.settings)
    results = run_gold(pipeline, questions, progress=not quiet and not as_json)
    rep = report(results, split=split, answerer=pipeline.generator.name, question_set=question_set)
    path = save_report(rep, State.settings.data_dir)
    if as_json:
        print(rep.model_dump_json(indent=1, exclude={"results"}))
        return
    table = Table(
        "metric", "value", title=f"{question_set} {split} ({len(questions)} questions, {rep.answerer})"
    )
    for name, value in rep.metrics.items():
        table.add_row(name, f"{value:.3f}" if value < 100 else f"{value:.0f}")
    out.print(table)
    if rep.per_world:
        worlds = Table(
            "world",
            "n",
            "accuracy",
            "wrong facts",
            "(value",
            "absent)",
            "ans. declined",
            "cite P",
            "cite R",
            title="per world",
        )
        for world, v in rep.per_world.items():
            worlds.add_row(
                world,
                *(f"{v[k]:.0f}" for k in ("questions",)),
                f"{v['answer.accuracy']:.3f}",
                *(f"{v[k]:.0f}" for k in ("wrong_facts", "answer.wrong_fact", "absent.wrongly_answered")),
                *(
                    f"{v[k]:.3f}"
                    for k in ("answerable_declined_rate", "citation.precision", "citation.recall")
                ),
            )
        out.print(worlds)
    cats = Table("category", *next(iter(rep.per_category.values())).keys(), title="per category")
    for cat, values in rep.per_category.items():
        cats.add_row(cat, *(f"{v:.2f}" for v in values.values()))
    out.print(cats)
    sweep = Table(
        "gate threshold", "decline precision", "decline recall", "answerable declined", title="gate sweep"
    )
    for row in rep.gate_sweep:
        sweep.add_row(
            *(
                f"{row[k]:.2f}"
                for k in ("threshold", "decline.precision", "decline.recall", "answerable_declined_rate")
            )
        )
    out.print(sweep)
    out.print(f"[dim]saved {path}[/]")


def _print_sets(as_json: bool) -> None:
    import json

    from rich.table import Table

    from carecite.evaluation.sets import list_sets

    rows = list_sets(State.settings.shared_data_dir)
    if as_json:
        print(json.dumps([r.model_dump() for r in rows], indent=1))
        return
    table = Table("set", "authoring", "questions", "dev", "test", "sha256", title="question sets")
    for r in rows:
        table.add_row(
            r.name,
            r.authoring,
            "-" if r.questions is None else str(r.questions),
            str(r.splits.get("dev", "-")),
            str(r.splits.get("test", "-")),
            (r.frozen_sha256 or r.note)[:12],
        )
    out.print(table)
    out.print(
        "[dim]Only independent sets are evidence of how carecite does on questions nobody here wrote.[/]"
    )


# --------------------------------------------------------------------------- observability (issue 13): report, drift, flags, FHIR audit export
flags_app = typer.Typer(
    no_args_is_help=True,
    help="Flags on answers: raise one, review one (the Review page lists them, `carecite report` counts them).",
)
app.add_typer(flags_app, name="flags")


def _since_or_fail(since: str) -> object:
    from carecite.audit.report import BadSince, parse_since

    try:
        return parse_since(since)
    except BadSince as exc:
        raise fail(str(exc), 2) from None


@app.command("report")
def report_cmd(
    since: Annotated[str, typer.Option(help="Window: 7d, 24h, 30m, 2w or an ISO date.")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON on stdout.")] = False,
) -> None:
    """Live quality from the audit trail: requests, latency per stage, declines, cost, security, flags."""
    from datetime import datetime

    from carecite.audit import AuditLog
    from carecite.audit.report import live_report
    from carecite.feedback.flags import list_flags, summarize
    from carecite.stores import Stores
    from carecite.ui.terminal_report import render_report

    start = _since_or_fail(since)
    assert isinstance(start, datetime)
    engine = Stores(State.settings).engine
    rep = live_report(AuditLog(engine), since=start, gate=State.settings.gate_min_score)
    flags = summarize(list_flags(engine, since=start.isoformat(timespec="microseconds")))
    rep = rep.model_copy(update={"flags": flags.model_dump()})
    if as_json:
        print(rep.model_dump_json(indent=1))
        return
    render_report(rep, out)


@app.command("drift")
def drift_cmd(
    since: Annotated[str, typer.Option(help="Recent window: 7d, 24h, 30m, 2w or an ISO date.")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="The drift report as JSON on stdout.")] = False,
    reset_reference: Annotated[
        bool, typer.Option("--reset-reference", help="Take a new reference snapshot from the chunks now.")
    ] = False,
) -> None:
    """Embedding drift against the reference snapshot taken at ingest; exit 1 when an alert fires."""
    from datetime import datetime

    from carecite.audit import AuditLog
    from carecite.audit.report import live_report
    from carecite.monitoring.drift import drift_report, take_reference
    from carecite.stores import Stores
    from carecite.ui.terminal_report import render_drift

    start = _since_or_fail(since)
    assert isinstance(start, datetime)
    settings = State.settings
    stores = Stores(settings)
    if reset_reference:
        with console.status("embedding a sample of chunks for the new reference…"):
            taken = take_reference(stores, settings)
        if not taken:
            raise fail("no chunks to take a reference from: ingest first", 2)
        console.print(f"new reference snapshot from {taken} chunks")
    live = live_report(AuditLog(stores.engine), since=start, gate=settings.gate_min_score)
    rep = drift_report(
        stores.engine,
        settings,
        current_fingerprint=stores.embedder.fingerprint,
        since=start,
        scored_questions=live.scored_requests,
        below_gate_share=live.below_gate_share,
    )
    if as_json:
        print(rep.model_dump_json(indent=1))
    else:
        render_drift(rep, out)
    if rep.alerts:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    fmt: Annotated[
        str, typer.Option("--format", help="Only fhir: a Bundle of FHIR R4 AuditEvents.")
    ] = "fhir",
    since: Annotated[str | None, typer.Option(help="Only records since: 7d, 24h or an ISO date.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export the audit trail as FHIR R4 AuditEvents (IHE BALP shape), validated before writing."""
    import json
    from datetime import datetime

    from carecite.audit import AuditLog
    from carecite.audit.fhir_export import export_fhir
    from carecite.stores import Stores

    if fmt != "fhir":
        raise fail(f"--format must be fhir, not {fmt!r}", 2)
    start: str | None = None
    if since is not None:
        value = _since_or_fail(since)
        assert isinstance(value, datetime)
        start = value.isoformat(timespec="microseconds")
    engine = Stores(State.settings).engine
    bundle = export_fhir(engine, AuditLog(engine), since=start)
    text = json.dumps(bundle, indent=1, ensure_ascii=False)
    if output is None:
        print(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {bundle['total']} AuditEvents to {output}")


@contextmanager
def _flag_errors() -> Iterator[None]:
    """Flag commands: bad input exits 2; not your answer, or not a reviewer, exits 3."""
    from carecite.access.scope import AccessDenied
    from carecite.feedback.flags import FlagError

    try:
        yield
    except FlagError as exc:
        raise fail(str(exc), 2) from None
    except AccessDenied as exc:
        raise fail(str(exc), 3) from None


@flags_app.command("raise")
def flags_raise(
    request_id: Annotated[str, typer.Argument(help="The request id of the answer (ask --json request_id).")],
    user: Annotated[str, typer.Option("--user", help="Who flags (the user who received the answer).")],
    reason: Annotated[str, typer.Option(help="wrong | unsupported | missing_information | wrong_patient")],
    comment: Annotated[str, typer.Option(help="Optional words (stored redacted).")] = "",
) -> None:
    """Flag an answer you received; exit 3 when it is not yours (or does not exist)."""
    from carecite.audit import AuditLog
    from carecite.feedback.flags import flag_answer
    from carecite.stores import Stores
    from carecite.wiring import build_redactor

    engine = Stores(State.settings).engine
    with _flag_errors():
        flag = flag_answer(
            engine,
            AuditLog(engine),
            build_redactor(),
            user_id=user,
            request_id=request_id,
            category=reason,
            comment=comment,
        )
    out.print(
        f"flag {flag.id} recorded ({flag.category}, {sum(s.cited for s in flag.sources)} cited sources)"
    )


@flags_app.command("review")
def flags_review(
    flag_id: Annotated[str, typer.Argument(help="The flag id.")],
    decision: Annotated[str, typer.Argument(help="confirmed | dismissed")],
    user: Annotated[str, typer.Option("--user", help="The reviewer's user id.")],
    note: Annotated[str, typer.Option(help="Optional words (stored redacted).")] = "",
) -> None:
    """Confirm or dismiss an open flag (reviewers and admins); exit 3 for anyone else."""
    from carecite.audit import AuditLog
    from carecite.feedback.flags import review_flag
    from carecite.stores import Stores
    from carecite.wiring import build_redactor

    engine = Stores(State.settings).engine
    with _flag_errors():
        flag = review_flag(
            engine,
            AuditLog(engine),
            build_redactor(),
            reviewer_id=user,
            flag_id=flag_id,
            decision=decision,
            note=note,
        )
    out.print(f"flag {flag.id} {flag.status}")


# --------------------------------------------------------------------------- the HTTP API: serve, token mint, bench api (api/)
@app.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default CARECITE_API_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default CARECITE_API_PORT).")
    ] = None,
) -> None:
    """Start the HTTP API (FastAPI + uvicorn) over the same pipeline; OpenAPI at /openapi.json, docs at /docs."""
    from carecite.api.server import serve

    settings = State.settings
    if not (settings.data_dir / "carecite.sqlite").exists() and not settings.database_url:
        raise fail(f"no data in {settings.data_dir}: run `carecite ingest synthetic` first", 2)
    host, port = host or settings.api_host, port or settings.api_port
    if (settings.database_url or "").startswith("postgresql"):
        from carecite.api.app import PrivilegedRoleError, refuse_privileged_role
        from carecite.records.postgres import SchemaNotReadyError
        from carecite.stores import Stores

        try:  # before uvicorn: a refused start is one line, not a lifespan traceback
            refuse_privileged_role(settings, Stores(settings).engine)
        except (PrivilegedRoleError, SchemaNotReadyError) as exc:
            raise fail(str(exc), 2) from None
        # a database that is down: one line naming it (StoreFaultGroup)
    _log_llm_check_at_start(settings)
    out.print(f"carecite API on http://{host}:{port}  (docs at /docs; Ctrl+C to stop)")
    serve(settings, host, port)


@token_app.command("mint")
def token_mint(
    user: Annotated[str, typer.Option("--user", help="The carecite user id the token speaks for (sub).")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", help="SMART scope, repeatable (default user/*.rs), e.g. user/Observation.rs."
        ),
    ] = None,
    ttl: Annotated[int | None, typer.Option("--ttl", min=1, help="Lifetime in seconds.")] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="Launch patient for patient/* scopes.")
    ] = None,
) -> None:
    """Print a dev JWT (ES256) signed with the key in <data-dir>/api (created on first use)."""
    from carecite.api.auth import dev_jwks_path, mint_token

    if State.settings.api_jwks:
        console.print(
            "[yellow]note:[/] CARECITE_API_JWKS is set; the server checks tokens against it, not the dev key"
        )
    scopes = [s for item in (scope or ["user/*.rs"]) for s in item.split()]
    print(mint_token(State.settings, user, scopes, ttl_s=ttl, patient=patient))
    console.print(f"[dim]signed with the dev key; JWKS at {dev_jwks_path(State.settings)}[/]")


@bench_app.command("api")
def bench_api(
    clients: Annotated[int, typer.Option(min=1, max=64, help="Concurrent clients.")] = 8,
    requests: Annotated[int, typer.Option(min=1, help="Requests per endpoint.")] = 32,
    as_json: Annotated[bool, typer.Option("--json", help="Figures as JSON on stdout.")] = False,
) -> None:
    """p50/p95 of POST /v1/ask and /v1/search (real uvicorn) vs the in-process pipeline, same run."""
    import json

    from rich.table import Table

    from carecite.api.server import run_api_bench

    gold = SYNTHETIC_DATA / "gold.jsonl"
    if not (State.settings.data_dir / "carecite.sqlite").exists():
        raise fail(f"no data in {State.settings.data_dir}: run `carecite ingest synthetic` first", 2)
    rows = run_api_bench(State.settings, gold, clients=clients, requests=requests, progress=not as_json)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("path", "requests", "errors", "p50 ms", "p95 ms", title=f"{clients} concurrent clients")
    for r in rows:
        table.add_row(
            str(r["name"]), str(r["n"]), str(r["errors"]), f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}"
        )
    out.print(table)


# --------------------------------------------------------------------------- scale-out: bench load, db migrate (issue 14; api/load_bench.py, records/postgres.py)
@bench_app.command("load")
def bench_load(
    clients: Annotated[int, typer.Option(min=1, max=64, help="Concurrent clients.")] = 4,
    duration: Annotated[
        float, typer.Option(min=1, max=3600, help="Seconds each store setup is driven.")
    ] = 30,
    server_database_url: Annotated[
        str | None,
        typer.Option(help="Also drive shared stores: a postgresql+psycopg:// URL for the system of record."),
    ] = None,
    server_vector_store: Annotated[
        str, typer.Option(help="chroma | pgvector, for the shared setup.")
    ] = "pgvector",
    server_lexical_store: Annotated[
        str, typer.Option(help="bm25 | postgres, for the shared setup.")
    ] = "postgres",
    server_chroma_host: Annotated[
        str | None, typer.Option(help="A Chroma server for the shared setup.")
    ] = None,
    server_chroma_port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    server_data_dir: Annotated[
        Path | None,
        typer.Option(help="Data dir of the shared setup (keys, BM25); default <data-dir>/load-server."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Figures as JSON on stdout.")] = False,
) -> None:
    """N concurrent clients on POST /v1/ask (real uvicorn) for a bounded time, embedded stores and
    (when given) shared servers in one run: throughput, p50/p95/p99, errors, one audit record per request."""
    import json

    from rich.table import Table

    from carecite.api.load_bench import StoreSetup, run_load
    from carecite.store_errors import store_unavailable

    settings = State.settings
    if not (settings.data_dir / "carecite.sqlite").exists() and not settings.database_url:
        raise fail(f"no data in {settings.data_dir}: run `carecite ingest synthetic` first", 2)
    setups = [StoreSetup("embedded", settings)]
    if server_database_url:
        if server_vector_store not in ("chroma", "pgvector"):
            raise fail(f"--server-vector-store must be chroma or pgvector, not {server_vector_store!r}", 2)
        if server_lexical_store not in ("bm25", "postgres"):
            raise fail(f"--server-lexical-store must be bm25 or postgres, not {server_lexical_store!r}", 2)
        # a fresh Settings: the server setup shares no store with the embedded one
        shared = type(settings)(
            data_dir=server_data_dir or settings.data_dir / "load-server",
            database_url=server_database_url,
            vector_store=server_vector_store,  # type: ignore[arg-type]  # checked just above
            lexical_store=server_lexical_store,  # type: ignore[arg-type]
            chroma_host=server_chroma_host,
            chroma_port=server_chroma_port,
        )
        setups.append(StoreSetup("shared", shared))
    try:
        results = run_load(
            setups, SYNTHETIC_DATA / "gold.jsonl", clients=clients, seconds=duration, progress=not as_json
        )
    except Exception as exc:  # words, not a traceback: which store, or what failed
        if (store := store_unavailable(exc)) is not None:
            raise fail(f"{store} is unavailable ({type(exc).__name__}); is the server running?", 1) from None
        raise fail(f"the load run failed: {type(exc).__name__}: {exc}", 1) from None
    if as_json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return
    table = Table(
        "setup",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "audit 1:1",
        "chain",
        title=f"{clients} concurrent clients, {duration:g} s per setup",
    )
    for r in results:
        errors = ", ".join(f"{k}: {v}" for k, v in r.errors.items()) or "0"
        table.add_row(
            r.setup,
            str(r.requests),
            errors,
            f"{r.throughput_rps:.2f}",
            f"{r.p50_ms:.0f}",
            f"{r.p95_ms:.0f}",
            f"{r.p99_ms:.0f}",
            "yes" if r.audit_one_per_request else "NO",
            "ok" if r.chain_ok else "BROKEN",
        )
    out.print(table)
    for r in results:
        out.print(f"{r.setup}: {r.stores}")
        for problem in r.audit_problems:
            console.print(f"[red]{r.setup}:[/] {problem}")


db_app = typer.Typer(
    no_args_is_help=True, help="PostgreSQL system of record: schema and roles (docs/scaling.md)."
)
app.add_typer(db_app, name="db")


@db_app.command("migrate")
def db_migrate(
    app_role: Annotated[
        str | None, typer.Option(help="Also grant this (existing) role the application's privileges.")
    ] = None,
) -> None:
    """Bring CARECITE_DATABASE_URL to the current schema version (run as the database owner)."""
    from carecite.records.postgres import LATEST, SchemaNotReadyError, grant_app_role, migrate

    url = State.settings.database_url
    if not url or not url.startswith("postgresql"):
        raise fail("`db migrate` is for PostgreSQL: set CARECITE_DATABASE_URL=postgresql+psycopg://...", 2)
    from sqlmodel import create_engine

    engine = create_engine(url)
    try:
        ran = migrate(engine)
        if app_role:
            from carecite.retrieval.pg_lexical import TABLE as LEXICAL
            from carecite.retrieval.pgvector_index import META_TABLE
            from carecite.retrieval.pgvector_index import TABLE as VECTORS

            with engine.connect() as conn:
                present = [t for t in (LEXICAL, VECTORS, META_TABLE) if conn.dialect.has_table(conn, t)]
            grant_app_role(
                engine, app_role, extra_tables=present, key_file=State.settings.resolved_db_scope_key_file
            )
    except (ValueError, SchemaNotReadyError) as exc:
        raise fail(str(exc), 2) from None
    # a database that is down: one line naming it and what to do (StoreFaultGroup)
    out.print(
        f"schema at version {LATEST} ({ran} step(s) applied)"
        + (
            f"; role {app_role} granted; scope-signing key in {State.settings.resolved_db_scope_key_file}"
            if app_role
            else ""
        )
    )


@bench_app.command("stores")
def bench_stores(
    server_database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL (with pgvector) to measure pgvector and full-text search in."),
    ] = None,
    server_chroma_host: Annotated[str | None, typer.Option(help="A Chroma server to measure.")] = None,
    server_chroma_port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    as_json: Annotated[bool, typer.Option("--json", help="Figures as JSON on stdout.")] = False,
) -> None:
    """SciFact nDCG@10 through every VectorIndex and LexicalIndex implementation available, same
    vectors everywhere, so a store swap cannot silently lose quality. Uses a scratch dir in the data dir."""
    import json
    import shutil

    from rich.table import Table

    from carecite.evaluation.beir import load_beir
    from carecite.evaluation.store_quality import embed_corpus, lexical_quality, vector_quality
    from carecite.ports import LexicalIndex, VectorIndex
    from carecite.retrieval.dense import ChromaVectorIndex
    from carecite.retrieval.embedder import SentenceTransformerEmbedder
    from carecite.retrieval.lexical import Bm25Index
    from carecite.store_errors import store_unavailable

    settings = State.settings
    path = settings.shared_data_dir / "beir_scifact"
    if not (path / "corpus.jsonl").is_file():
        raise fail(f"SciFact not found at {path} (set CARECITE_SHARED_DATA_DIR)", 2)
    scratch = settings.data_dir / "bench-stores"
    shutil.rmtree(scratch, ignore_errors=True)
    embedder = SentenceTransformerEmbedder(
        settings.embedding_model_path, settings.embedding_batch_size, settings.torch_threads
    )
    dataset = load_beir(path, "test")
    try:
        vectors = embed_corpus(dataset, embedder, settings.data_dir / "beir-cache", quiet=as_json)
        vector_stores: dict[str, VectorIndex] = {
            "embedded Chroma": ChromaVectorIndex.open(Settings(data_dir=scratch / "embedded"), embedder)
        }
        lexical_stores: dict[str, LexicalIndex] = {"bm25s": Bm25Index.open(scratch / "bm25")}
        if server_chroma_host:
            server = Settings(
                data_dir=scratch / "server", chroma_host=server_chroma_host, chroma_port=server_chroma_port
            )
            vector_stores["Chroma server"] = ChromaVectorIndex.open(server, embedder)
        if server_database_url:
            from carecite.records import make_engine
            from carecite.retrieval.pg_lexical import PgFullTextIndex
            from carecite.retrieval.pgvector_index import PgVectorIndex

            engine = make_engine(server_database_url)
            vector_stores["pgvector (HNSW)"] = PgVectorIndex.open(engine, embedder)
            lexical_stores["PostgreSQL FTS"] = PgFullTextIndex.open(engine)
        rows = vector_quality(dataset, embedder, vectors, vector_stores) + lexical_quality(
            dataset, lexical_stores
        )
    except Exception as exc:  # words, not a traceback
        store = store_unavailable(exc)
        raise fail(f"{store or 'a store'} failed: {type(exc).__name__}: {exc}", 1) from None
    if as_json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    table = Table("port", "store", "nDCG@10", "queries", title="SciFact (test) through each store")
    for r in rows:
        table.add_row(r.port, r.store, f"{r.ndcg_at_10:.3f}", str(r.queries))
    out.print(table)

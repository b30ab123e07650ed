"""The ``revcycle`` command line: one entry point for every stage of the cycle."""

from __future__ import annotations

import importlib
import sys
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from revcycle.runtime import configure_runtime

configure_runtime()

from revcycle.paths import WorkArea, project_root  # noqa: E402

app = typer.Typer(
    name="revcycle",
    help=(
        "revcycle: a revenue-cycle (EMR billing) pipeline. EMR extracts go into a DuckDB "
        "warehouse, dbt builds charge and claim marts. Working data lives under data/ "
        "(or REVCYCLE_DATA_DIR)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals can hold patient data
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Working area (extracts, warehouse, quarantine...). "
        "Default: data/ or REVCYCLE_DATA_DIR.",
        file_okay=False,
    ),
]


def _area(data_dir: Path | None) -> WorkArea:
    return WorkArea(data_dir.resolve()) if data_dir else WorkArea.default()


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def _parse_date(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@app.command()
def generate(
    encounters: Annotated[
        int, typer.Option(min=1, help="Number of encounters to generate.")
    ] = 3000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and --as-of give identical files.")
    ] = 42,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Extract folder to write. Default: <data-dir>/extracts.", file_okay=False
        ),
    ] = None,
    answer_key_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where the answer key of injected defects goes (kept apart from the extract). "
            "Default: <data-dir>/answer_keys."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Extract date YYYY-MM-DD; services fall before it. Default: today."),
    ] = None,
    defect_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of encounters given one injected defect.")
    ] = 0.04,
    data_dir: DataDirOption = None,
) -> None:
    """Write a synthetic EMR extract (one CSV per table) and its answer key of injected defects."""
    from revcycle.extracts.generate import generate_extract

    area = _area(data_dir)
    out_dir = out or area.extracts
    key_dir = answer_key_dir or (out_dir.parent / "answer_keys" if out else area.answer_keys)
    with _progress() as progress:
        bar = progress.add_task("generating encounters", total=encounters)
        summary = generate_extract(
            out_dir=out_dir,
            answer_key_dir=key_dir,
            encounters=encounters,
            seed=seed,
            as_of=_parse_date(as_of),
            defect_rate=defect_rate,
            progress=lambda done: progress.update(bar, completed=done),
        )
    console.print(
        f"wrote {out_dir} ({summary.defective_encounters} encounters with injected defects; "
        f"answer key in {key_dir}); billed {_money(summary.total_billed)}"
    )


class ExtractFormat(StrEnum):
    NATIVE = "native"
    SYNTHEA = "synthea"


@app.command()
def ingest(
    extract_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of extract CSV files (default: <data-dir>/extracts), or with "
            "--format synthea the folder of a Synthea CSV export.",
            file_okay=False,
        ),
    ] = None,
    format_: Annotated[
        ExtractFormat,
        typer.Option(
            "--format",
            help="native: our extract format. synthea: convert a Synthea CSV export into an "
            "extract (docs/extract-format.md, Synthea), print what was mapped and left out, "
            "then load it.",
        ),
    ] = ExtractFormat.NATIVE,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Synthea only: the extract date YYYY-MM-DD; later encounters are left out. "
            "Default: today."
        ),
    ] = None,
    lookback_days: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Synthea only: keep encounters of the last N days before --as-of "
            "(default 365, Medicare's filing limit).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Synthea only: folder for the converted extract (its rejects go to "
            "<out>/conversion/). Default: <data-dir>/extracts/synthea-<as-of>.",
            file_okay=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Load extract files into the warehouse's raw schema; skip files already loaded,
    quarantine malformed ones with a reason. With --format synthea, convert a Synthea CSV
    export into an extract first."""
    from revcycle.extracts.load import LoadStatus, extract_files, load_extract_dir

    area = _area(data_dir)
    if format_ is ExtractFormat.SYNTHEA:
        from revcycle.extracts.synthea import (
            DEFAULT_LOOKBACK_DAYS,
            SyntheaFormatError,
            convert_synthea,
        )

        if extract_dir is None:
            raise _fail("--format synthea needs the folder of the Synthea CSV export")
        day = _parse_date(as_of)
        target = out or area.extracts / f"synthea-{day.isoformat()}"
        try:
            summary = convert_synthea(
                extract_dir,
                target,
                as_of=day,
                lookback_days=lookback_days or DEFAULT_LOOKBACK_DAYS,
            )
        except SyntheaFormatError as exc:
            raise _fail(str(exc)) from None
        for line in summary.report_lines():
            console.print(line, markup=False, highlight=False)
        source = target
    else:
        if as_of is not None or lookback_days is not None or out is not None:
            raise _fail("--as-of, --lookback-days and --out apply to --format synthea only")
        source = extract_dir or area.extracts
    files = extract_files(source)
    if not files:
        raise _fail(f"no extract files in {source}")
    with _progress() as progress:
        bar = progress.add_task("loading files", total=len(files))
        outcomes = load_extract_dir(
            source, area.warehouse, area.quarantine, on_file=lambda _o: progress.advance(bar)
        )
    for o in outcomes:
        if o.status is LoadStatus.QUARANTINED:
            err_console.print(f"[yellow]quarantined[/] {o.reason}")
    loaded = [o for o in outcomes if o.status is LoadStatus.LOADED]
    skipped = [o for o in outcomes if o.status is LoadStatus.SKIPPED]
    quarantined = [o for o in outcomes if o.status is LoadStatus.QUARANTINED]
    console.print(
        f"{len(loaded)} file(s) loaded ({sum(o.rows_loaded for o in loaded):,} rows), "
        f"{len(skipped)} already loaded, {len(quarantined)} quarantined -> {area.warehouse}"
    )
    if quarantined:
        raise typer.Exit(code=2)


AsOfOption = Annotated[
    str | None,
    typer.Option(
        help="The run's date YYYY-MM-DD: the scrubber judges future dates of service and "
        "timely filing against it. Default: today."
    ),
]


@app.command()
def build(
    as_of: AsOfOption = None,
    data_dir: DataDirOption = None,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Rebuild the incremental models (remittance staging, the AR ledger) from "
            "the raw tables instead of adding what is new. Gives the same rows; use it after "
            "upgrading revcycle or repairing raw data.",
        ),
    ] = False,
) -> None:
    """Build the dbt project (staging, claim scrubber, marts, tests) against the warehouse."""
    from revcycle.marts import DbtBuildError, dbt_build_plain
    from revcycle.runs import WarehouseBusyError, warehouse_lock

    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(f"no warehouse at {area.warehouse}: run `revcycle ingest` first")
    try:
        with warehouse_lock(area, "revcycle build"):
            dbt_build_plain(area, _parse_date(as_of), ["--full-refresh"] if full_refresh else None)
    except (DbtBuildError, WarehouseBusyError) as exc:
        raise _fail(str(exc)) from None
    _print_marts(area)


def _load_flow_module() -> ModuleType:
    root = str(project_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("flows.revenue_cycle")


@app.command()
def run(as_of: AsOfOption = None, data_dir: DataDirOption = None) -> None:
    """One pipeline run as a Prefect flow: ingest the extract folder, build and scrub,
    gate, write 837 files for the claims ready to bill."""
    module = _load_flow_module()
    state = module.revenue_cycle(
        data_dir=str(_area(data_dir).root), as_of=_parse_date(as_of), return_state=True
    )
    _finish_flow(module, state, _area(data_dir))


@app.command()
def bill(data_dir: DataDirOption = None) -> None:
    """Gate the claims ready to bill and write them to 837 files (no ingest, no rebuild)."""
    module = _load_flow_module()
    area = _area(data_dir)
    state = module.bill_ready_claims(data_dir=str(area.root), return_state=True)
    module.wait_for_run_history(state.state_details.flow_run_id)
    if not state.is_completed():
        raise _fail(f"the billing run ended {state.name}: {state.message}")
    _print_billing(state.result())


@app.command()
def eligibility(
    as_of: Annotated[
        str | None,
        typer.Option(help="The day registration asks on, YYYY-MM-DD. Default: today."),
    ] = None,
    days: Annotated[
        int,
        typer.Option(min=0, help="Ask about encounters from the as-of date to this many days on."),
    ] = 7,
    recent_unbilled: Annotated[
        bool,
        typer.Option(
            "--recent-unbilled",
            help="Also ask about encounters of the DAYS days before the as-of date that are "
            "not billed yet.",
        ),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Write 270 eligibility inquiries (005010X279A1) for upcoming encounters, one file per
    payer in <data-dir>/outbox/270/, each inquiry recorded in ops.eligibility_inquiries.
    The payers' 271 answers are loaded from inbox/271/ by the next run (or the inbox flow)."""
    from datetime import timedelta

    import duckdb

    from revcycle.config import submitter_from_env
    from revcycle.eligibility import (
        CANDIDATES_VIEW,
        fetch_candidates,
        now_utc,
        send_inquiries,
    )

    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(
            f"no warehouse at {area.warehouse}: run `revcycle demo` or `revcycle run` first"
        )
    day = _parse_date(as_of)
    with duckdb.connect(str(area.warehouse)) as con:
        try:
            candidates = fetch_candidates(
                con, as_of=day, days=days, include_recent_unbilled=recent_unbilled
            )
        except duckdb.CatalogException:
            raise _fail(
                f"{CANDIDATES_VIEW} is missing: run `revcycle build` (or `revcycle run`) first"
            ) from None
        result = send_inquiries(
            con, candidates, area.outbox / "270", submitter_from_env(), now_utc(), as_of=day
        )
    window = f"{day} to {day + timedelta(days=days)}"
    console.print(
        f"{result.inquiry_count:,} eligibility inquiries for encounters from {window}"
        + (" (and recent unbilled ones)" if recent_unbilled else "")
        + f" in {len(result.files)} 270 file(s); {result.already_asked:,} already asked today"
    )
    for file in result.files:
        console.print(f"  {file.path}  payer {file.payer_id}: {file.inquiry_count:,} inquiries")
    for reason, count in result.skipped.items():
        console.print(f"  not asked ({reason}): {count:,}")


DEMO_ENCOUNTERS = 3000


@app.command()
def demo(
    encounters: Annotated[
        int, typer.Option(min=1, help="Encounters to generate.")
    ] = DEMO_ENCOUNTERS,
    seed: Annotated[int, typer.Option(help="Random seed for the synthetic extract.")] = 42,
    as_of: Annotated[
        str | None, typer.Option(help="Extract date YYYY-MM-DD. Default: today.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Generate a synthetic extract, run the whole cycle on it (ingest, build, scrub, gate,
    837 files; the simulated clearinghouse and payers answer with 999/277CA/835 files, which
    are loaded and reconciled) and print a summary."""
    module = _load_flow_module()
    area = _area(data_dir)
    console.print(
        f"revcycle demo: {encounters:,} synthetic encounters (seed {seed}) into {area.root}"
    )
    state = module.revenue_cycle(
        data_dir=str(area.root),
        generate_encounters=encounters,
        seed=seed,
        as_of=_parse_date(as_of),
        simulate_partners=True,
        return_state=True,
    )
    _finish_flow(module, state, area)


def _finish_flow(module: ModuleType, state: Any, area: WorkArea) -> None:
    module.wait_for_run_history(state.state_details.flow_run_id)
    if not state.is_completed():
        raise _fail(f"the flow run ended {state.name}: {state.message}")
    _print_summary(state.result(), area)


x12_app = typer.Typer(help="X12 files: validate what we send and receive.", no_args_is_help=True)
app.add_typer(x12_app, name="x12")


@x12_app.command("validate")
def x12_validate(
    files: Annotated[list[Path], typer.Argument(help="X12 files to validate with pyx12.")],
    normalise: Annotated[
        bool,
        typer.Option(
            help="Re-lay received files one segment per line with a fixed-width ISA first, so "
            "only their content is judged (keep the strict default for files we send)."
        ),
    ] = False,
) -> None:
    """Validate X12 5010 files (837P, 837I, 835, 999) against their implementation guides
    with pyx12. Exit code 0 only when every file is valid."""
    from revcycle.x12.validate import format_report, validate_files

    reports = validate_files(files, normalise=normalise)
    with _progress() as progress:
        progress.add_task("validated", total=len(reports), completed=len(reports))
    invalid = [r for r in reports if not r.is_valid]
    for report in reports:
        stream = err_console if not report.is_valid else console
        for line in format_report(report):
            stream.print(line, markup=False, highlight=False)
    console.print(f"{len(reports) - len(invalid)} of {len(reports)} file(s) valid")
    if invalid:
        raise typer.Exit(code=1)


@x12_app.command("parse-835")
def x12_parse_835(
    files: Annotated[list[Path], typer.Argument(help="835 remittance files.")],
    out: Annotated[Path, typer.Option(help="Folder for the tables.", file_okay=False)],
    file_format: Annotated[
        str, typer.Option("--format", help="csv or parquet.", case_sensitive=False)
    ] = "csv",
) -> None:
    """Read 835 files into documented tables (payments, claim payments, service lines,
    adjustments, provider adjustments, balancing checks): see docs/remittance-tables.md.
    One folder per input file under --out. Imbalances are reported, never corrected."""
    from revcycle.remits.parse_835 import parse_835_file
    from revcycle.remits.tables import write_tables
    from revcycle.x12.reader import X12ReadError

    fmt = file_format.lower()
    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("--format must be csv or parquet")
    failed = 0
    with _progress() as progress:
        bar = progress.add_task("parsing 835 files", total=len(files))
        for path in files:
            try:
                tables = parse_835_file(path)
            except (X12ReadError, OSError) as exc:
                err_console.print(f"[red]error[/] {exc}", highlight=False)
                failed += 1
                progress.advance(bar)
                continue
            target = out / Path(path.name).name
            write_tables(tables, target, format="parquet" if fmt == "parquet" else "csv")
            unbalanced = tables.unbalanced
            console.print(
                f"{path.name}: {len(tables.payments)} payment(s), {len(tables.claims)} claim(s), "
                f"{len(tables.service_lines)} line(s) -> {target}"
                + (f" [yellow]{len(unbalanced)} imbalance(s)[/]" if unbalanced else ""),
                highlight=False,
            )
            progress.advance(bar)
    if failed:
        raise typer.Exit(code=1)


transport_app = typer.Typer(
    help="Exchange files with the clearinghouse over SFTP (settings: REVCYCLE_SFTP_*).",
    no_args_is_help=True,
)
app.add_typer(transport_app, name="transport")


def _sftp_settings() -> Any:
    from revcycle.config import SftpConfigError, sftp_from_env

    try:
        return sftp_from_env()
    except SftpConfigError as exc:
        raise _fail(str(exc)) from None


def _print_transfer(transfer: Any) -> None:
    where = f"{transfer.kind} {transfer.file_name}"
    if transfer.local_name and transfer.local_name != transfer.file_name:
        where += f" (saved as {transfer.local_name})"
    if transfer.outcome == "failed":
        err_console.print(f"[red]failed[/] {transfer.detail}", highlight=False)
    elif transfer.outcome == "duplicate":
        console.print(f"duplicate {where}: {transfer.detail}, loaded once", highlight=False)
    elif transfer.outcome == "received":
        console.print(f"received {where}", highlight=False)
    elif transfer.outcome == "already_on_server":
        console.print(f"sent {where} ({transfer.detail})", highlight=False)
    else:
        retried = f" after {transfer.attempts} attempts" if transfer.attempts > 1 else ""
        console.print(f"{transfer.outcome} {where}{retried}", highlight=False)


@transport_app.command("deliver")
def transport_deliver(data_dir: DataDirOption = None) -> None:
    """Upload every 837 in <data-dir>/outbox/837 not delivered yet to the clearinghouse's
    outbound folder (temporary name, then rename; retried, never sent twice) and mark the
    files a loaded 999 acknowledges. Exit code 1 when a file could not be delivered."""
    from revcycle.runs import WarehouseBusyError, warehouse_lock
    from revcycle.transport import TransportError, deliver

    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(f"no warehouse at {area.warehouse}: nothing was billed here yet")
    config = _sftp_settings()
    # Delivery records its files in ops.transport_files: one writer on the warehouse at a time.
    try:
        with warehouse_lock(area, "revcycle transport deliver"):
            result = deliver(area, config, on_file=_print_transfer)
    except (TransportError, WarehouseBusyError) as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"{len(result.sent)} file(s) delivered, {len(result.failed)} failed, "
        f"{len(result.acknowledged)} newly acknowledged by a 999 "
        f"({config.user}@{config.host}:{config.outbound_dir})",
        highlight=False,
    )
    if result.failed:
        raise typer.Exit(code=1)


@transport_app.command("collect")
def transport_collect(data_dir: DataDirOption = None) -> None:
    """Download new files from the clearinghouse's inbound folders (999, 277CA, 835, 271)
    into <data-dir>/inbox/<kind>/ without overwriting anything, then move them to the
    remote processed folder (REVCYCLE_SFTP_AFTER_DOWNLOAD). Load them with `revcycle run`.
    Exit code 1 when a file could not be collected."""
    from revcycle.runs import WarehouseBusyError, warehouse_lock
    from revcycle.transport import TransportError, collect

    area = _area(data_dir)
    config = _sftp_settings()
    try:
        with warehouse_lock(area, "revcycle transport collect"):
            result = collect(area, config, on_file=_print_transfer)
    except (TransportError, WarehouseBusyError) as exc:
        raise _fail(str(exc)) from None
    for folder in result.missing_folders:
        err_console.print(f"[yellow]no remote folder[/] {folder} (skipped)", highlight=False)
    console.print(
        f"{len(result.received)} file(s) received, {len(result.duplicates)} duplicate(s), "
        f"{len(result.failed)} failed -> {area.inbox}",
        highlight=False,
    )
    if result.failed:
        raise typer.Exit(code=1)


@transport_app.command("status")
def transport_status_command(
    limit: Annotated[int, typer.Option(help="List at most this many open files.")] = 20,
    data_dir: DataDirOption = None,
) -> None:
    """Files sent and received (ops.transport_files) by state, and the 837s not yet
    acknowledged by a 999, with their attempts and last error. No connection is made."""
    from revcycle.runs import WarehouseBusyError, warehouse_lock
    from revcycle.transport import OUTBOUND, transport_status

    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(f"no warehouse at {area.warehouse}")
    try:
        # Status marks newly acknowledged files first, so it writes too.
        with warehouse_lock(area, "revcycle transport status"):
            files = transport_status(area)
    except WarehouseBusyError as exc:
        raise _fail(str(exc)) from None
    counts: dict[tuple[str, str, str], int] = {}
    for tracked in files:
        key = (tracked.direction, tracked.kind, tracked.state)
        counts[key] = counts.get(key, 0) + 1
    table = RichTable(title="ops.transport_files", show_header=True)
    for name in ("direction", "kind", "state"):
        table.add_column(name)
    table.add_column("files", justify="right")
    for (direction, kind, state), count in counts.items():
        table.add_row(direction, kind, state, f"{count:,}")
    console.print(table)
    waiting = [f for f in files if f.direction == OUTBOUND and f.state != "acknowledged"]
    if waiting:
        console.print(f"{len(waiting)} 837 file(s) without a 999 yet:", highlight=False)
        for tracked in waiting[:limit]:
            error = f": {tracked.last_error}" if tracked.last_error else ""
            console.print(
                f"  {tracked.file_name} {tracked.state}, {tracked.attempts} attempt(s){error}",
                highlight=False,
            )
    else:
        console.print(f"{len(files)} file(s) tracked; every 837 sent has its 999")


@app.command()
def summary(data_dir: DataDirOption = None) -> None:
    """Show what the marts hold now: row counts and dollars billed."""
    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(
            f"no warehouse at {area.warehouse}: run `revcycle demo` or `revcycle run` first"
        )
    _print_marts(area)


@app.command()
def query(
    sql: Annotated[
        str,
        typer.Argument(help='One SQL statement, e.g. "select * from marts.fct_claims limit 5".'),
    ],
    limit: Annotated[int, typer.Option(help="Show at most this many rows.")] = 50,
    data_dir: DataDirOption = None,
) -> None:
    """Run one read-only SQL query against the warehouse and print the result."""
    import duckdb

    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(
            f"no warehouse at {area.warehouse}: run `revcycle demo` or `revcycle run` first"
        )
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            raise _fail(str(exc).splitlines()[0]) from None
        names = [d[0] for d in cursor.description or []]
        rows = cursor.fetchmany(limit)
    table = RichTable(show_header=True)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@app.command()
def statements(
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Statement date YYYY-MM-DD: printed on the statements, in the file names and "
            "as the PDFs' creation date (the same inputs and date give identical files). "
            "Default: today."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the PDFs (files 0600; created 0700). Default: <data-dir>/statements.",
            file_okay=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write one PDF statement per patient who owes a balance after insurance (patient
    responsibility in marts.fct_claim_balances, self-pay claims included), with a
    remittance stub per practice. Files are named by account number and date."""
    import duckdb

    from revcycle.statements import read_statements, write_statements

    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(
            f"no warehouse at {area.warehouse}: run `revcycle demo` or `revcycle run` first"
        )
    statement_date = _parse_date(as_of)
    try:
        batch = read_statements(area.warehouse, statement_date)
    except duckdb.Error as exc:
        raise _fail(
            f"cannot read the AR marts ({str(exc).splitlines()[0]}): run `revcycle build`"
        ) from None
    out_dir = out or area.statements
    with _progress() as progress:
        bar = progress.add_task("writing statements", total=len(batch.statements))
        files = write_statements(
            batch.statements, out_dir, on_file=lambda _path: progress.advance(bar)
        )
    for held in batch.held:  # ids and reasons only: no names, addresses or dates of birth
        err_console.print(
            f"[yellow]not written[/] account {held.patient_id} "
            f"({_money(held.amount_due)}): {held.reason}",
            highlight=False,
        )
    console.print(
        f"{len(files):,} patient statement(s), {_money(batch.total_due)} due -> {out_dir}"
        + (
            f"; {len(batch.held):,} held ({_money(batch.held_amount)}), see above"
            if batch.held
            else ""
        ),
        highlight=False,
    )


@app.command()
def export(
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for the files, one per mart (files 0600; created 0700).", file_okay=False
        ),
    ],
    file_format: Annotated[
        str, typer.Option("--format", help="parquet or csv.", case_sensitive=False)
    ] = "parquet",
    data_dir: DataDirOption = None,
) -> None:
    """Export every table and view of the marts schema to --out, one file per mart (Parquet
    keeps DECIMAL money and text codes), reading the warehouse read-only."""
    import duckdb

    from revcycle.export import ExportFormat, export_marts

    fmt = file_format.lower()
    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("--format must be parquet or csv")
    chosen: ExportFormat = "parquet" if fmt == "parquet" else "csv"
    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(
            f"no warehouse at {area.warehouse}: run `revcycle demo` or `revcycle run` first"
        )
    try:
        with _progress() as progress:
            bar = progress.add_task("exporting marts", total=None)
            marts = export_marts(
                area.warehouse, out, chosen, on_mart=lambda _mart: progress.advance(bar)
            )
            progress.update(bar, total=len(marts))
    except duckdb.Error as exc:
        raise _fail(str(exc).splitlines()[0]) from None
    for mart in marts:
        console.print(f"  marts.{mart.name}: {mart.rows:,} rows -> {mart.path.name}")
    console.print(f"{len(marts)} mart(s) exported as {chosen} -> {out}", highlight=False)


@app.command()
def docs(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1 to serve the docs on.")
    ] = 8080,
    data_dir: DataDirOption = None,
) -> None:
    """Generate the dbt docs (models, columns, tests, lineage, with the warehouse's catalog)
    and serve them on http://127.0.0.1:PORT/ until Ctrl+C."""
    from revcycle.export import DocsError, generate_docs, serve_docs

    area = _area(data_dir)
    if not area.warehouse.exists():
        raise _fail(f"no warehouse at {area.warehouse}: run `revcycle ingest` and `build` first")
    try:
        target = generate_docs(area)
    except DocsError as exc:
        raise _fail(str(exc)) from None
    console.print(f"docs generated in {target}")
    try:
        serve_docs(
            target, port, on_ready=lambda url: console.print(f"serving {url} (Ctrl+C to stop)")
        )
    except OSError as exc:  # the port is taken, most likely
        raise _fail(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from None


@app.command()
def dashboard(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1 to serve the dashboard on.")
    ] = 8501,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the RCM analysts' dashboard (KPIs, A/R aging, denials, work queues, claim lookup,
    pipeline runs) on http://127.0.0.1:PORT/ with Streamlit until Ctrl+C. It opens the
    warehouse read-only, for each page view only."""
    import os

    from revcycle.dashboard import WAREHOUSE_ENV, streamlit_command

    area = _area(data_dir)
    if not area.warehouse.exists():
        err_console.print(
            f"[yellow]warning:[/] no warehouse at {area.warehouse} yet (the dashboard says so): "
            "run `revcycle demo` or `revcycle run`"
        )
    command = streamlit_command(sys.executable, port)
    env = {**os.environ, WAREHOUSE_ENV: str(area.warehouse.resolve())}
    console.print(
        f"serving the dashboard on http://127.0.0.1:{port}/ (warehouse {area.warehouse}, "
        "read-only; Ctrl+C to stop)",
        highlight=False,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # Become the Streamlit server (same PID): stopping this process stops the server.
        os.execve(sys.executable, command, env)  # noqa: S606 (our own argv, no shell)
    import subprocess

    raise typer.Exit(code=subprocess.call(command, env=env))  # noqa: S603 (our own argv)


@app.command()
def serve(
    limit: Annotated[
        int,
        typer.Option(
            min=1,
            help="Flow runs at a time. With 1, a run that falls due while another is running "
            "waits for it (the nightly cycle and the 02:00 inbox poll never race for the "
            "warehouse).",
        ),
    ] = 1,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the scheduled deployments of deployments/prefect.yaml (the nightly cycle, the
    hourly inbox poll) against the Prefect server PREFECT_API_URL points at, until Ctrl+C.
    Their runs execute in this process's work area; stopping pauses their schedules."""
    import os

    from revcycle import deployments

    if data_dir is not None:  # the deployments leave data_dir unset: runs use this one
        os.environ["REVCYCLE_DATA_DIR"] = str(data_dir.resolve())
    try:
        specs = deployments.load_deployment_specs()
        api_url = deployments.check_prefect_server(deployments.configured_api_url())
        flows = [deployments.load_flow(spec) for spec in specs]
        served = [
            deployments.runner_deployment(spec, flow)
            for spec, flow in zip(specs, flows, strict=True)
        ]
    except (deployments.DeploymentConfigError, deployments.PrefectServerError) as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"serving {len(served)} deployment(s) of {deployments.deployments_file()} on {api_url} "
        f"(work area {_area(data_dir).root}, {limit} run(s) at a time):",
        highlight=False,
    )
    for spec, flow in zip(specs, flows, strict=True):
        when = "; ".join(f"cron {s.cron!r} {s.timezone or 'UTC'}" for s in spec.schedules)
        console.print(f"  {deployments.full_name(spec, flow)}: {when or 'no schedule'}")
    first = deployments.full_name(specs[0], flows[0]) if specs else "<flow>/<deployment>"
    console.print(
        f"UI: {deployments.ui_url() or api_url}; run one now: "
        f"prefect deployment run {first!r}; Ctrl+C to stop",
        highlight=False,
    )
    sys.stdout.flush()
    deployments.serve(served, limit=limit)


def _print_marts(area: WorkArea) -> None:
    from revcycle.marts import read_mart_counts

    counts = read_mart_counts(area.warehouse)
    table = RichTable(title="marts", show_header=True)
    table.add_column("mart")
    table.add_column("rows", justify="right")
    for name, value in (
        ("marts.dim_patients", counts.patients),
        ("marts.dim_payers", counts.payers),
        ("marts.dim_providers", counts.providers),
        ("marts.fct_charges", counts.charges),
        ("marts.fct_claims", counts.claims),
        ("marts.fct_claim_lines", counts.claim_lines),
    ):
        table.add_row(name, f"{value:,}")
    console.print(table)
    console.print(
        f"claims built: {counts.claims:,} ({counts.self_pay_claims:,} self-pay); "
        f"billed: {_money(counts.billed_amount)}"
    )


def _print_summary(summary: Any, area: WorkArea) -> None:
    console.print()
    console.print("[bold]revenue-cycle run finished[/]")
    console.print(
        f"  extract files: {summary.files_loaded} loaded, {summary.files_skipped} already loaded, "
        f"{summary.files_quarantined} quarantined ({summary.rows_loaded:,} rows loaded)"
    )
    for reason in summary.quarantined:
        console.print(f"    [yellow]quarantined[/] {reason}")
    m = summary.marts
    console.print(
        f"  claims built: {m.claims:,} ({m.claim_lines:,} lines), {_money(m.billed_amount)}"
    )
    if summary.billing is not None:
        _print_billing(summary.billing)
    _print_ar(area)
    console.print(f"  warehouse: {summary.warehouse}")
    console.print(
        f"  next: `revcycle x12 validate {area.outbox / '837'}/*.x12` to check the claim files,\n"
        "        `revcycle summary` for mart counts, or query the marts read-only, e.g.\n"
        '        revcycle query "select edit_id, count(*) from marts.fct_claim_edits '
        'group by all order by 2 desc"'
    )


def _print_billing(billing: Any) -> None:
    status = billing.status
    parts = [
        ("sent in 837 files", status["submitted"]),
        ("held by the scrubber", status["held"]),
        ("self-pay (patient statements)", status["self_pay"]),
    ]
    if status["ready"].claims:
        parts.append(("ready, not yet sent", status["ready"]))
    total_claims = sum(b.claims for _, b in parts)
    total_amount = sum((b.amount for _, b in parts), Decimal("0.00"))
    console.print(f"  where they stand: {total_claims:,} claims, {_money(total_amount)} =")
    for label, bucket in parts:
        console.print(f"    {bucket.claims:>9,}  {_money(bucket.amount):>16}  {label}")
    console.print(f"  claims gate: {billing.gate}")
    if billing.files:
        folder = billing.files[0].path.parent
        console.print(
            f"  837 files written this run: {len(billing.files)} in {folder} "
            f"({billing.claims_emitted:,} claims, {_money(billing.amount_emitted)})"
        )
    else:
        console.print("  837 files written this run: none (nothing new ready to bill)")


def _print_ar(area: WorkArea) -> None:
    import duckdb

    from revcycle.marts import read_ar_totals

    try:
        ar = read_ar_totals(area.warehouse)
    except duckdb.Error:  # an older warehouse without the AR marts: say nothing
        return
    console.print(
        f"  accounts receivable: {_money(ar.charge)} charged = {_money(ar.paid)} paid "
        f"+ {_money(ar.contractual_adjustment)} contractual + {_money(ar.other_adjustment)} "
        f"other adjustments + {_money(ar.patient_responsibility)} patient responsibility "
        f"+ {_money(ar.open_balance)} open"
    )
    statuses = ", ".join(f"{name} {count:,}" for name, count in ar.claims_by_status.items())
    console.print(f"  claim status: {statuses}")
    console.print(
        f"  remittance work queue: {ar.work_queue_items:,} item(s) (marts.fct_remit_work_queue)"
    )
    if ar.secondary_by_status:
        labels = {
            "ready": "ready for the next run",
            "submitted": "sent",
            "held": "held",
            "nothing_to_bill": "nothing to bill",
        }
        parts = [
            f"{count:,} {labels.get(status, status)} ({_money(share)})"
            for status, (count, share) in ar.secondary_by_status.items()
        ]
        console.print(
            "  secondary (COB) claims, by the primary's patient share: "
            + ", ".join(parts)
            + " (marts.fct_secondary_claims)"
        )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()

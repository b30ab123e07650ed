"""The revenue-cycle flow: (generate, demo only) -> ingest extracts -> build the marts (with
the claim scrubber) -> claims gate -> 837 files.

Runs on Prefect without a server by default (Prefect starts a temporary local API). dbt runs
through prefect-dbt's PrefectDbtRunner, so every model and seed is its own task; a failed
model or test fails the flow run, naming the failed nodes. The gate and the writer are a
subflow of their own, ``bill-ready-claims``: a failed gate fails the run and no file is
written for the batch.
Inbox files (999, 277CA, 835, 271) are read by the ``read-inbox`` subflow: one parse task per
file, mapped over the files (threads, or Dask workers: ``revcycle.parallel``), then one loader.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from revcycle.runtime import configure_runtime

configure_runtime()

import duckdb  # noqa: E402
from dbt.node_types import NodeType  # noqa: E402
from dbt_common.events.base_types import EventLevel  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.context import get_run_context  # noqa: E402
from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings  # noqa: E402

from revcycle.claims.emit import EmittedFile, emit_claim_files  # noqa: E402
from revcycle.config import submitter_from_env  # noqa: E402
from revcycle.extracts.generate import GenerationSummary, generate_extract  # noqa: E402
from revcycle.extracts.load import (  # noqa: E402
    FileOutcome,
    LoadStatus,
    ensure_warehouse,
    extract_files,
    load_file,
)
from revcycle.gates.claims_gate import GateFailedError, GateResult, run_claims_gate  # noqa: E402
from revcycle.inbox import (  # noqa: E402
    InboxOutcome,
    ParsedInboxFile,
    list_inbox,
    load_parsed_inbox,
    parse_inbox_file,
)
from revcycle.marts import (  # noqa: E402
    BillingBucket,
    MartCounts,
    dbt_env,
    dbt_vars,
    read_billing_status,
    read_mart_counts,
    release_dbt_duckdb,
)
from revcycle.parallel import flow_task_runner  # noqa: E402
from revcycle.paths import WorkArea, dbt_project_dir  # noqa: E402
from revcycle.runs import recorded_run, warehouse_lock  # noqa: E402
from revcycle.sim import SimResult, answer_outbox  # noqa: E402


@dataclass(frozen=True)
class BillingSummary:
    gate: str
    files: tuple[EmittedFile, ...]
    status: dict[str, BillingBucket]

    @property
    def claims_emitted(self) -> int:
        return sum(f.claim_count for f in self.files)

    @property
    def amount_emitted(self) -> Decimal:
        return sum((f.total_charge_amount for f in self.files), Decimal("0.00"))


@dataclass(frozen=True)
class CycleSummary:
    files_loaded: int
    files_skipped: int
    files_quarantined: int
    rows_loaded: int
    marts: MartCounts
    warehouse: Path
    quarantined: tuple[str, ...]
    billing: BillingSummary | None
    inbox_files_loaded: int


@task(name="generate-synthetic-extract")
def generate_task(area_root: Path, encounters: int, seed: int, as_of: date) -> GenerationSummary:
    area = WorkArea(area_root)
    summary = generate_extract(
        out_dir=area.extracts,
        answer_key_dir=area.answer_keys,
        encounters=encounters,
        seed=seed,
        as_of=as_of,
    )
    get_run_logger().info(
        "generated %d encounters (%d with injected defects)",
        encounters,
        summary.defective_encounters,
    )
    return summary


@task(name="ingest-extract-file", task_run_name="ingest-{path.name}")
def ingest_file_task(area_root: Path, path: Path) -> FileOutcome:
    area = WorkArea(area_root)
    area.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(area.warehouse)) as con:
        ensure_warehouse(con)
        outcome = load_file(con, path, area.quarantine)
    logger = get_run_logger()
    if outcome.status is LoadStatus.QUARANTINED:
        logger.warning("quarantined %s", outcome.reason)
    else:
        logger.info("%s %s: %d rows", outcome.status.value, path.name, outcome.rows_loaded)
    return outcome


class MaterializationTasksDbtRunner(PrefectDbtRunner):
    """PrefectDbtRunner that makes a task run of each model and seed, not of each data or unit
    test.

    The project has about 100 models and 1,000 tests. A task run costs about 0.1-0.15 s of Prefect
    bookkeeping on our 2-core machines, so one task per test made a 200-encounter build 165 s
    against 29 s for plain dbt (64 s like this). A failed test still fails the build: dbt
    reports it and the runner raises, naming every failed node, and the tests' results stay in
    dbt's ``run_results.json`` and log. ``_call_task`` is prefect-dbt's private hook (pinned
    <0.8); tests/flows/test_revenue_cycle.py checks the task runs a build makes.
    """

    TESTS = frozenset({NodeType.Test, NodeType.Unit})

    def _call_task(
        self, task_state: Any, manifest_node: Any, context: Any, enable_assets: Any
    ) -> None:
        if manifest_node.resource_type in self.TESTS:
            return
        super()._call_task(task_state, manifest_node, context, enable_assets)


DBT_LOG_LEVEL_ENV = "REVCYCLE_DBT_LOG_LEVEL"


def dbt_log_level() -> EventLevel:
    """The lowest level of dbt's messages passed on to the flow run's log.

    Default ``warn``: warnings and errors (a failed or warning test, a failed model) reach the
    Prefect log; dbt's per-node INFO lines (about four per node, for about 1,100 nodes) stay in
    the work area's ``dbt/logs/dbt.log``, written at ``info`` whatever this level. Sending them
    to Prefect cost about 10 s per build on our 2-core machines (200 encounters: 54 s -> 46 s).
    Set
    ``REVCYCLE_DBT_LOG_LEVEL=info`` (or ``debug``) to see them in the flow run's log.
    """
    value = os.environ.get(DBT_LOG_LEVEL_ENV, "").strip().lower() or "warn"
    try:
        return EventLevel(value)
    except ValueError:
        choices = ", ".join(level.value for level in EventLevel)
        raise ValueError(f"{DBT_LOG_LEVEL_ENV}={value!r}: use one of {choices}") from None


def build_marts(area: WorkArea, as_of: date, select: list[str] | None = None) -> None:
    """dbt build, called from the flow itself so each model and seed becomes a task of the
    flow run (MaterializationTasksDbtRunner). Logs one summary line of the build's results."""
    with dbt_env(area):
        runner = MaterializationTasksDbtRunner(
            settings=PrefectDbtSettings(
                project_dir=dbt_project_dir(),
                profiles_dir=dbt_project_dir(),
                target_path=area.root / "dbt" / "target",
                log_level=dbt_log_level(),
            ),
            raise_on_failure=True,
        )
        try:
            outcome = runner.invoke(
                [
                    "build",
                    # --log-level (from the settings) sets the file log's level too: keep
                    # dbt.log whole.
                    *("--log-level-file", "info"),
                    *dbt_vars(as_of),
                    *(["--select", *select] if select else []),
                ]
            )
        finally:
            release_dbt_duckdb()
    get_run_logger().info("dbt build: %s", dbt_results_summary(outcome.result))


def dbt_results_summary(result: Any) -> str:
    """``"591 nodes in 44.1 s: 490 pass, 100 success, 1 warn"`` from dbt's run result (tests
    pass, models and seeds succeed)."""
    statuses: dict[str, int] = {}
    nodes = list(getattr(result, "results", None) or [])
    for node in nodes:
        status = str(getattr(node.status, "value", node.status))
        statuses[status] = statuses.get(status, 0) + 1
    counts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    elapsed = float(getattr(result, "elapsed_time", 0.0) or 0.0)
    return f"{len(nodes)} nodes in {elapsed:.1f} s: {counts or 'nothing selected'}"


@task(name="claims-gate", cache_policy=NO_CACHE)
def claims_gate_task(area_root: Path) -> GateResult:
    """Validate exactly the rows about to be written; a failed gate fails the task."""
    area = WorkArea(area_root)
    flow_run = get_run_context()
    flow_run_id = str(getattr(getattr(flow_run, "task_run", None), "flow_run_id", "") or "")
    with duckdb.connect(str(area.warehouse)) as con:
        result = run_claims_gate(con, flow_run_id=flow_run_id or None)
    if not result.success:
        raise GateFailedError(result)
    get_run_logger().info("%s", result.summary())
    return result


@task(name="write-837-files", cache_policy=NO_CACHE)
def write_837_task(area_root: Path, gate: GateResult) -> tuple[EmittedFile, ...]:
    """Write the gated batch as one 837P/837I file per payer, recording every submission."""
    area = WorkArea(area_root)
    with duckdb.connect(str(area.warehouse)) as con:
        result = emit_claim_files(
            con,
            gate.claims,
            gate.lines,
            area.outbox / "837",
            submitter_from_env(),
            datetime.now(UTC),
        )
    logger = get_run_logger()
    for emitted in result.files:
        logger.info(
            "wrote %s: %d claims, %s",
            emitted.path.name,
            emitted.claim_count,
            emitted.total_charge_amount,
        )
    return result.files


@flow(name="bill-ready-claims")
def bill_ready_claims(data_dir: str | None = None) -> BillingSummary:
    """Gate the claims that are ready to bill, then write them to 837 files."""
    area = WorkArea(Path(data_dir).resolve()) if data_dir else WorkArea.default()
    with recorded_run(area, "bill-ready-claims", flow_run_id=_flow_run_id()) as record:
        gate = claims_gate_task(area.root)
        files = write_837_task(area.root, gate)
        summary = BillingSummary(
            gate=gate.summary(), files=files, status=read_billing_status(area.warehouse)
        )
        record.gate_result = summary.gate
        record.claims_sent = summary.claims_emitted
        record.amount_sent = summary.amount_emitted
        record.files_837_written = len(files)
    return summary


@task(name="simulated-clearinghouse-and-payers")
def simulate_partners_task(area_root: Path, seed: int, today: date) -> SimResult:
    """The simulated outside world answers our 837s with 999, 277CA and 835 files."""
    area = WorkArea(area_root)
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        fee_schedules = {
            str(payer_id): Decimal(percent)
            for payer_id, percent in con.execute(
                "select payer_id, allowed_percent_of_charge from marts.dim_payers"
            ).fetchall()
        }
    result = answer_outbox(area.outbox, area.inbox, fee_schedules, seed=seed, today=today)
    get_run_logger().info(
        "simulated partners answered %d claims: %d 999, %d 277CA, %d 835 files",
        result.claims_received,
        len(result.files_999),
        len(result.files_277ca),
        len(result.files_835) + len(result.files_835_duplicates),
    )
    return result


@task(
    name="parse-inbox-file",
    task_run_name="parse-{kind}-{path.name}",
    cache_policy=NO_CACHE,
)
def parse_inbox_file_task(kind: str, path: Path) -> ParsedInboxFile:
    """Parse one inbox file. Pure (no warehouse, no file moved), so it runs wherever the
    flow's task runner puts it: a thread here, or a Dask worker (revcycle.parallel)."""
    return parse_inbox_file(kind, path)


@task(name="load-parsed-inbox", cache_policy=NO_CACHE)
def load_parsed_inbox_task(
    area_root: Path, parsed: list[ParsedInboxFile]
) -> tuple[InboxOutcome, ...]:
    """The one loader: archive, skip or quarantine each parsed file, in load order."""
    area = WorkArea(area_root)
    outcomes = load_parsed_inbox(parsed, area.warehouse, area.archive, area.quarantine)
    logger = get_run_logger()
    for item in outcomes:
        if item.outcome.status is LoadStatus.QUARANTINED:
            logger.warning("quarantined %s", item.outcome.reason)
    logger.info(
        "inbox files: %d loaded, %d already loaded, %d quarantined",
        sum(i.outcome.status is LoadStatus.LOADED for i in outcomes),
        sum(i.outcome.status is LoadStatus.SKIPPED for i in outcomes),
        sum(i.outcome.status is LoadStatus.QUARANTINED for i in outcomes),
    )
    return tuple(outcomes)


@flow(name="read-inbox", task_runner=flow_task_runner())
def read_inbox(data_dir: str | None = None) -> tuple[InboxOutcome, ...]:
    """Load the 999, 277CA, 835 and 271 files waiting in the inbox: one parse task per file,
    mapped over the files (threads, or Dask workers with REVCYCLE_DASK_ADDRESS), then one
    loader writes the warehouse and archives or quarantines each file."""
    area = WorkArea(Path(data_dir).resolve()) if data_dir else WorkArea.default()
    # Listing and loading under one hold of the warehouse lock (re-entrant: a calling run
    # already holds it), so two runs never load the same files.
    with warehouse_lock(area, "read-inbox"):
        waiting = list_inbox(area.inbox)
        if not waiting:
            return ()
        parsed = parse_inbox_file_task.map(
            [kind for kind, _ in waiting], [path for _, path in waiting]
        )
        return load_parsed_inbox_task(area.root, parsed)  # type: ignore[arg-type]


@flow(name="reconcile-inbox")
def reconcile_inbox(data_dir: str | None = None, as_of: date | None = None) -> int:
    """Load the inbox and rebuild what depends on it (acknowledgements, remittances, ledger,
    claim balances and status, work queue: everything downstream of the X12 and ops sources;
    the ops side matters because the ledger posts charges from the submissions).
    Returns the number of inbox files loaded."""
    area = WorkArea(Path(data_dir).resolve()) if data_dir else WorkArea.default()
    run_date = as_of or date.today()
    with recorded_run(
        area, "reconcile-inbox", flow_run_id=_flow_run_id(), as_of=run_date
    ) as record:
        outcomes = read_inbox(data_dir=str(area.root))
        # Only what depends on the X12 and ops sources changes; a warehouse that has never
        # had a nightly build (a fresh install polled before 02:00) gets a full one.
        select = ["source:x12+", "source:ops+"] if _marts_exist(area) else None
        build_marts(area, run_date, select=select)
        loaded = sum(i.outcome.status is LoadStatus.LOADED for i in outcomes)
        record.inbox_files_loaded = loaded
    return loaded


@flow(name="revenue-cycle", log_prints=False)
def revenue_cycle(
    data_dir: str | None = None,
    generate_encounters: int | None = None,
    seed: int = 42,
    as_of: date | None = None,
    bill: bool = True,
    simulate_partners: bool = False,
) -> CycleSummary:
    """Ingest the extract folder, build the marts and bill the ready claims; with
    ``generate_encounters``, first write a synthetic extract (the demo). ``as_of`` is the
    run's date (the extract date and the scrubber's today); default today. With
    ``simulate_partners`` (the demo), the simulated clearinghouse and payers answer the 837s
    and their answers are reconciled in the same run."""
    area = WorkArea(Path(data_dir).resolve()) if data_dir else WorkArea.default()
    run_date = as_of or date.today()
    # One run at a time on a warehouse; the run and its figures go to ops.pipeline_runs.
    with recorded_run(area, "revenue-cycle", flow_run_id=_flow_run_id(), as_of=run_date) as record:
        summary = _revenue_cycle(
            area,
            run_date,
            generate_encounters,
            seed,
            bill=bill,
            simulate_partners=simulate_partners,
        )
        record.extract_files_loaded = summary.files_loaded
        record.extract_files_skipped = summary.files_skipped
        record.extract_files_quarantined = summary.files_quarantined
        record.extract_rows_loaded = summary.rows_loaded
        record.inbox_files_loaded = summary.inbox_files_loaded
        record.claims_built = summary.marts.claims
        if summary.billing is not None:
            record.claims_sent = summary.billing.claims_emitted
            record.amount_sent = summary.billing.amount_emitted
            record.files_837_written = len(summary.billing.files)
            record.gate_result = summary.billing.gate
    return summary


def _marts_exist(area: WorkArea) -> bool:
    if not area.warehouse.exists():
        return False
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'fct_claims'"
        ).fetchall()
    return bool(found[0][0])


def _flow_run_id() -> str | None:
    context = get_run_context()
    flow_run = getattr(context, "flow_run", None)
    return str(flow_run.id) if flow_run is not None else None


def _revenue_cycle(
    area: WorkArea,
    run_date: date,
    generate_encounters: int | None,
    seed: int,
    *,
    bill: bool,
    simulate_partners: bool,
) -> CycleSummary:
    logger = get_run_logger()
    if generate_encounters:
        generate_task(area.root, generate_encounters, seed, run_date)

    outcomes = [ingest_file_task(area.root, path) for path in extract_files(area.extracts)]
    quarantined = tuple(
        o.reason or o.file_name for o in outcomes if o.status is LoadStatus.QUARANTINED
    )
    logger.info(
        "extract files: %d loaded, %d already loaded, %d quarantined",
        sum(o.status is LoadStatus.LOADED for o in outcomes),
        sum(o.status is LoadStatus.SKIPPED for o in outcomes),
        len(quarantined),
    )

    inbox = read_inbox(data_dir=str(area.root))
    build_marts(area, run_date)
    billing = bill_ready_claims(data_dir=str(area.root)) if bill else None
    answered_files_loaded = 0
    if simulate_partners and bill:
        simulate_partners_task(area.root, seed, run_date)
        answered_files_loaded = reconcile_inbox(data_dir=str(area.root), as_of=run_date)
    marts = read_mart_counts(area.warehouse)
    logger.info(
        "marts: %d claims, %d claim lines, %s billed",
        marts.claims,
        marts.claim_lines,
        marts.billed_amount,
    )
    return CycleSummary(
        files_loaded=sum(o.status is LoadStatus.LOADED for o in outcomes),
        files_skipped=sum(o.status is LoadStatus.SKIPPED for o in outcomes),
        files_quarantined=len(quarantined),
        rows_loaded=sum(o.rows_loaded for o in outcomes),
        marts=marts,
        warehouse=area.warehouse,
        quarantined=quarantined,
        billing=billing,
        inbox_files_loaded=sum(i.outcome.status is LoadStatus.LOADED for i in inbox)
        + answered_files_loaded,
    )


def wait_for_run_history(flow_run_id: UUID, timeout_seconds: float = 30.0) -> None:
    """Wait until the API has recorded every task run of a flow run as finished.

    Task-run states travel to the API as events, a little after the run; with the temporary
    local server, exiting at once would stop the server mid-flush, losing the tail of the run
    history (and printing the server's shutdown errors).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout_seconds
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs: list[Any] = []
            while True:  # the API pages at 200 task runs
                page = client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                    limit=200,
                    offset=len(runs),
                )
                runs += page
                if len(page) < 200:
                    break
            if all(run.state is not None and run.state.is_final() for run in runs):
                break
            time.sleep(0.5)
    time.sleep(1.0)  # the flow run's own final events


if __name__ == "__main__":
    revenue_cycle()

"""The revenue-cycle flow: (generate, demo only) -> ingest extracts -> build the marts.

Runs on Prefect without a server by default (Prefect starts a temporary local API). dbt runs
through prefect-dbt's PrefectDbtRunner, so every model, seed and test is its own task and a
failed one fails the flow run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from revcycle.runtime import configure_runtime

configure_runtime()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings  # noqa: E402

from revcycle.extracts.generate import GenerationSummary, generate_extract  # noqa: E402
from revcycle.extracts.load import (  # noqa: E402
    FileOutcome,
    LoadStatus,
    ensure_warehouse,
    extract_files,
    load_file,
)
from revcycle.marts import MartCounts, dbt_env, read_mart_counts, release_dbt_duckdb  # noqa: E402
from revcycle.paths import WorkArea, dbt_project_dir  # noqa: E402


@dataclass(frozen=True)
class CycleSummary:
    files_loaded: int
    files_skipped: int
    files_quarantined: int
    rows_loaded: int
    marts: MartCounts
    warehouse: Path
    quarantined: tuple[str, ...]


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
    import duckdb

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


def build_marts(area: WorkArea) -> None:
    """dbt build, called from the flow itself so each dbt node becomes a task of the flow run."""
    with dbt_env(area):
        runner = PrefectDbtRunner(
            settings=PrefectDbtSettings(
                project_dir=dbt_project_dir(),
                profiles_dir=dbt_project_dir(),
                target_path=area.root / "dbt" / "target",
            ),
            raise_on_failure=True,
        )
        try:
            runner.invoke(["build"])
        finally:
            release_dbt_duckdb()


@flow(name="revenue-cycle", log_prints=False)
def revenue_cycle(
    data_dir: str | None = None,
    generate_encounters: int | None = None,
    seed: int = 42,
    as_of: date | None = None,
) -> CycleSummary:
    """Ingest the extract folder and build the marts; with ``generate_encounters``, first
    write a synthetic extract (the demo)."""
    area = WorkArea(Path(data_dir).resolve()) if data_dir else WorkArea.default()
    logger = get_run_logger()
    if generate_encounters:
        generate_task(area.root, generate_encounters, seed, as_of or date.today())

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

    build_marts(area)
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

"""One real end-to-end flow run (Prefect, ingest, dbt build) on a few hundred encounters,
then a second run on the same inputs that must change nothing."""

from __future__ import annotations

import csv
import time
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import duckdb
import pytest

from tests.conftest import AS_OF

MART_TABLES = (
    "dim_patients",
    "dim_payers",
    "dim_providers",
    "fct_charges",
    "fct_claims",
    "fct_claim_lines",
    "fct_claim_diagnoses",
)


def _fingerprints(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every row's content, per mart."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        out = {}
        for table in MART_TABLES:
            row = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0) from marts.{table} as t"
            ).fetchone()
            assert row is not None
            out[table] = (int(row[0]), int(row[1]))
        return out


def _billed_in_extract(extract_dir: Path) -> Decimal:
    with (extract_dir / "charges.csv").open(encoding="utf-8", newline="") as fh:
        return sum((Decimal(r["charge_amount"]) for r in csv.DictReader(fh)), Decimal("0.00"))


def _task_run_states(flow_run_id: UUID) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while True:  # the API pages at 200 task runs
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                limit=200,
                offset=len(states),
            )
            states.update({run.name: run.state_name or "" for run in page})
            if len(page) < 200:
                return states


@pytest.mark.usefixtures("prefect_harness")
def test_flow_builds_the_marts_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    from flows.revenue_cycle import revenue_cycle

    data_dir = tmp_path / "data"

    state = revenue_cycle(
        data_dir=str(data_dir), generate_encounters=300, seed=5, as_of=AS_OF, return_state=True
    )

    assert state.is_completed(), state.message
    first = state.result()
    assert first.files_loaded == 7
    assert first.files_quarantined == 0
    # Every billed dollar of the extract is in the claims mart, no more, no less.
    assert first.marts.billed_amount == _billed_in_extract(data_dir / "extracts")
    assert first.marts.claims > 0
    with duckdb.connect(str(first.warehouse), read_only=True) as con:
        encounters = con.execute("select count(*) from raw.encounters").fetchone()
    assert encounters is not None and first.marts.claims == encounters[0] == 300
    # dbt ran inside the flow: each model is a visible, completed task run.
    models = ("fct_claims", "fct_claim_lines", "stg_emr__charges")
    deadline = time.monotonic() + 60
    while True:  # task-run states reach the API through events, a little after the run
        tasks = _task_run_states(state.state_details.flow_run_id)
        matching = {m: [n for n in tasks if m in n] for m in models}
        done = all(
            names and all(tasks[n] == "Completed" for n in names) for names in matching.values()
        )
        if done or time.monotonic() > deadline:
            break
        time.sleep(2)
    for model, names in matching.items():
        assert names, f"no task run for {model}: {sorted(tasks)}"
        assert all(tasks[n] == "Completed" for n in names), {n: tasks[n] for n in names}
    before = _fingerprints(first.warehouse)
    assert all(count > 0 for count, _ in before.values())

    second = revenue_cycle(data_dir=str(data_dir), generate_encounters=300, seed=5, as_of=AS_OF)

    assert (second.files_loaded, second.files_skipped, second.files_quarantined) == (0, 7, 0)
    assert second.marts == first.marts
    assert _fingerprints(second.warehouse) == before

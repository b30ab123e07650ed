"""The per-file X12 stage as Prefect tasks: the read-inbox flow parses each waiting file in its
own task (mapped over the files) and loads them with one loader. On a local Dask cluster (two
worker processes, prefect-dask) it leaves exactly what the library loader leaves: the same raw
rows, the same outcome per file, an empty inbox."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from uuid import UUID

import duckdb
import pytest

from revcycle.extracts.load import LoadStatus
from revcycle.inbox import load_inbox
from revcycle.parallel import local_dask_task_runner
from revcycle.paths import WorkArea

SAMPLES = Path(__file__).parents[1] / "fixtures" / "x12"
RAW_TABLES = (
    "x12_remit_payments",
    "x12_remit_claims",
    "x12_remit_service_lines",
    "x12_remit_adjustments",
    "x12_ack_999_transactions",
)


def _fill_inbox(inbox: Path) -> set[str]:
    """Eight real-world remittances and acknowledgements, one of them twice, and a broken 835."""
    (inbox / "835").mkdir(parents=True)
    (inbox / "999").mkdir(parents=True)
    remits = sorted((SAMPLES / "835").glob("stupidedi-*.edi"))[:5]
    for number, sample in enumerate(remits):
        shutil.copy(sample, inbox / "835" / f"era_{number}.x12")
    shutil.copy(remits[0], inbox / "835" / "era_0_again.x12")
    for sample in (SAMPLES / "ack").glob("imsweb-x12_999_*.txt"):
        shutil.copy(sample, inbox / "999" / f"{sample.stem}.x12")
    (inbox / "835" / "broken.x12").write_bytes(b"ST*835*0001~BPR*I*abc*C~SE*3*0001~")
    return {p.name for p in inbox.rglob("*.x12")}


def _raw_rows(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every raw X12 row, without the wall-clock load time."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in RAW_TABLES:
            out[table] = sorted(
                con.execute(f"select * exclude (_loaded_at) from raw.{table}").fetchall(),
                key=repr,
            )
    return out


def _parse_task_names(flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), limit=200
            )
            names = sorted(r.name for r in runs if r.name.startswith("parse-"))
            if all(r.state is not None and r.state.is_final() for r in runs) or (
                time.monotonic() > deadline
            ):
                return names
            time.sleep(0.5)


@pytest.mark.usefixtures("prefect_harness")
def test_inbox_files_are_parsed_as_mapped_tasks_on_dask(tmp_path: Path) -> None:
    from flows.revenue_cycle import read_inbox

    reference = WorkArea(tmp_path / "library")
    files = _fill_inbox(reference.inbox)
    expected = {
        o.outcome.file_name: o.outcome.status
        for o in load_inbox(
            reference.inbox, reference.warehouse, reference.archive, reference.quarantine
        )
    }
    assert expected["broken.x12"] is LoadStatus.QUARANTINED
    assert expected["era_0_again.x12"] is LoadStatus.SKIPPED

    area = WorkArea(tmp_path / "flow")
    _fill_inbox(area.inbox)
    state = read_inbox.with_options(task_runner=local_dask_task_runner(2))(
        data_dir=str(area.root), return_state=True
    )

    assert state.is_completed(), state.message
    outcomes = state.result()
    assert {o.outcome.file_name: o.outcome.status for o in outcomes} == expected
    assert _raw_rows(area.warehouse) == _raw_rows(reference.warehouse)
    assert sum(len(rows) for rows in _raw_rows(area.warehouse).values()) > 100
    assert not [p for p in area.inbox.rglob("*") if p.is_file()]
    # One parse task per file, each a task run of the flow run.
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    tasks = _parse_task_names(flow_run_id)
    assert len(tasks) == len(files)
    assert {name.split("-", 2)[2] for name in tasks} == files

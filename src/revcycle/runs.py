"""One pipeline run at a time, and a manifest of every run.

**The warehouse lock.** DuckDB lets one process write a database file; a second writer fails
somewhere in the middle of its work. So every run that writes (the nightly cycle, the inbox
poll, the CLI's ingest/build/bill) first takes an exclusive lock on
``data/warehouse/revcycle.lock`` (``fcntl.flock``: released by the kernel if the process
dies, so a killed run never leaves a stale lock). A second run waits up to
``REVCYCLE_LOCK_WAIT_SECONDS`` (default 60) and then stops with :class:`WarehouseBusyError`,
naming the run that holds the lock. The lock is re-entrant within a process: the nightly flow
holds it while its inbox subflow takes it again.

**The run manifest** (``ops.pipeline_runs``, read by dbt as ``marts.fct_pipeline_runs`` and
shown on the dashboard): one row per top-level run, written when the run starts (status
``running``) and when it ends (``completed`` or ``failed`` with the error), with the files and
row counts that went in and what came out (claims built, sent, files written, gate verdict).
A run killed before it could record its end is marked ``interrupted`` by the next run (the
lock proves it is gone).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from revcycle.paths import WorkArea

LOCK_FILE_NAME = "revcycle.lock"
DEFAULT_WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.5

_DDL = """
create schema if not exists ops;
create table if not exists ops.pipeline_runs (
    run_id varchar primary key,
    flow_name varchar not null,
    flow_run_id varchar,
    as_of_date date,
    status varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    extract_files_loaded integer,
    extract_files_skipped integer,
    extract_files_quarantined integer,
    extract_rows_loaded bigint,
    inbox_files_loaded integer,
    claims_built integer,
    claims_sent integer,
    amount_sent decimal(18, 2),
    files_837_written integer,
    gate_result varchar,
    message varchar
);
"""


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# Lock


@dataclass
class _Held:
    fd: int
    depth: int


_held: dict[Path, _Held] = {}
_held_guard = threading.Lock()


def wait_seconds_from_env() -> float:
    value = os.environ.get("REVCYCLE_LOCK_WAIT_SECONDS", "")
    try:
        return max(0.0, float(value)) if value else DEFAULT_WAIT_SECONDS
    except ValueError:
        return DEFAULT_WAIT_SECONDS


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another run"
    return (
        f"{info.get('what', 'a run')} (pid {info.get('pid', '?')}, "
        f"started {info.get('started', '?')} UTC)"
    )


@contextmanager
def warehouse_lock(
    area: WorkArea, what: str, *, wait_seconds: float | None = None
) -> Iterator[bool]:
    """Hold the warehouse for the duration of the block; yields True for the outermost holder
    in this process (the one that should record the run), False when re-entered."""
    path = (area.warehouse_dir / LOCK_FILE_NAME).resolve()
    with _held_guard:
        held = _held.get(path)
        if held is not None:
            held.depth += 1
    if held is not None:
        try:
            yield False
        finally:
            with _held_guard:
                held.depth -= 1
        return

    area.warehouse_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    wait = wait_seconds_from_env() if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"the warehouse {area.warehouse} is in use by {_holder(path)}; "
                        f"waited {wait:.0f} s. Run again when it has finished "
                        "(REVCYCLE_LOCK_WAIT_SECONDS sets how long to wait)."
                    ) from None
                time.sleep(_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {"what": what, "pid": os.getpid(), "started": _now().isoformat(timespec="seconds")}
            ).encode(),
            0,
        )
    except BaseException:
        os.close(fd)
        raise
    with _held_guard:
        _held[path] = _Held(fd=fd, depth=1)
    try:
        yield True
    finally:
        with _held_guard:
            del _held[path]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Manifest


@dataclass
class RunRecord:
    """What a run reports at its end (every field optional: a poll has no extract files)."""

    extract_files_loaded: int | None = None
    extract_files_skipped: int | None = None
    extract_files_quarantined: int | None = None
    extract_rows_loaded: int | None = None
    inbox_files_loaded: int | None = None
    claims_built: int | None = None
    claims_sent: int | None = None
    amount_sent: Decimal | None = None
    files_837_written: int | None = None
    gate_result: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def ensure_run_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def start_run(warehouse: Path, flow_name: str, flow_run_id: str | None, as_of: date | None) -> str:
    """Record a run as started; mark earlier runs that never finished as interrupted (the
    caller holds the lock, so they are gone). Returns the run id."""
    run_id = str(uuid.uuid4())
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_run_tables(con)
        con.execute(
            "update ops.pipeline_runs set status = 'interrupted', "
            "message = 'the run stopped before recording its end (killed or crashed)' "
            "where status = 'running'"
        )
        con.execute(
            "insert into ops.pipeline_runs (run_id, flow_name, flow_run_id, as_of_date, status,"
            " started_at) values (?, ?, ?, ?, 'running', ?)",
            [run_id, flow_name, flow_run_id, as_of, _now()],
        )
    return run_id


def finish_run(
    warehouse: Path, run_id: str, record: RunRecord, *, error: BaseException | None = None
) -> None:
    """Record a run's end: completed with its figures, or failed with the error message."""
    message = None if error is None else f"{type(error).__name__}: {error}"[:2000]
    with duckdb.connect(str(warehouse)) as con:
        ensure_run_tables(con)
        con.execute(
            """
            update ops.pipeline_runs set
                status = ?, finished_at = ?, extract_files_loaded = ?,
                extract_files_skipped = ?, extract_files_quarantined = ?,
                extract_rows_loaded = ?, inbox_files_loaded = ?, claims_built = ?,
                claims_sent = ?, amount_sent = ?, files_837_written = ?, gate_result = ?,
                message = ?
            where run_id = ?
            """,
            [
                "failed" if error is not None else "completed",
                _now(),
                record.extract_files_loaded,
                record.extract_files_skipped,
                record.extract_files_quarantined,
                record.extract_rows_loaded,
                record.inbox_files_loaded,
                record.claims_built,
                record.claims_sent,
                record.amount_sent,
                record.files_837_written,
                record.gate_result,
                message,
                run_id,
            ],
        )


@contextmanager
def recorded_run(
    area: WorkArea,
    flow_name: str,
    *,
    flow_run_id: str | None = None,
    as_of: date | None = None,
    wait_seconds: float | None = None,
) -> Iterator[RunRecord]:
    """Lock the warehouse and record the run in ``ops.pipeline_runs`` (outermost run only);
    the block fills in the yielded :class:`RunRecord`."""
    record = RunRecord()
    with warehouse_lock(area, flow_name, wait_seconds=wait_seconds) as outermost:
        if not outermost:
            yield record
            return
        run_id = start_run(area.warehouse, flow_name, flow_run_id, as_of)
        try:
            yield record
        except BaseException as error:
            finish_run(area.warehouse, run_id, record, error=error)
            raise
        finish_run(area.warehouse, run_id, record)

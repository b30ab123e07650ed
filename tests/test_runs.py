"""One run at a time on a warehouse (a real lock between real processes) and the run manifest
(ops.pipeline_runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from revcycle.paths import WorkArea
from revcycle.runs import WarehouseBusyError, recorded_run, start_run, warehouse_lock

HOLD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from revcycle.paths import WorkArea
    from revcycle.runs import warehouse_lock

    with warehouse_lock(WorkArea(Path(sys.argv[1])), "nightly test run", wait_seconds=0):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _hold(area: WorkArea, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the warehouse for ``seconds``; returns once it holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(area.root), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


# Settings that pass validation; no connection is attempted while the warehouse is busy.
SFTP_SETTINGS = {
    "REVCYCLE_SFTP_HOST": "127.0.0.1",
    "REVCYCLE_SFTP_USER": "billing",
    "REVCYCLE_SFTP_KEY": "/nonexistent/id_ed25519",
    "REVCYCLE_SFTP_HOST_KEY": (
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHZ1bm5lbHZ1bm5lbHZ1bm5lbHZ1bm5lbHZ1"
    ),
    "REVCYCLE_SFTP_OUTBOUND_DIR": "outbound",
}


@pytest.mark.parametrize(
    "command",
    [["build"], ["transport", "deliver"], ["transport", "collect"], ["transport", "status"]],
    ids=" ".join,
)
def test_a_second_run_stops_with_a_clear_message_naming_the_first(
    tmp_path: Path, command: list[str]
) -> None:
    area = WorkArea(tmp_path / "data")
    area.warehouse_dir.mkdir(parents=True)
    duckdb.connect(str(area.warehouse)).close()
    holder = _hold(area, 30)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "revcycle", *command, "--data-dir", str(area.root)],
            capture_output=True,
            text=True,
            env={**os.environ, **SFTP_SETTINGS, "REVCYCLE_LOCK_WAIT_SECONDS": "1"},
            timeout=120,
            check=False,
        )
    finally:
        holder.kill()
        holder.wait()
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1
    assert "is in use by nightly test run" in output
    assert f"pid {holder.pid}" in output
    assert "waited 1 s" in output


def test_a_second_run_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    area = WorkArea(tmp_path / "data")
    holder = _hold(area, 2)
    started = time.monotonic()
    with warehouse_lock(area, "second run", wait_seconds=60) as outermost:
        waited = time.monotonic() - started
        assert outermost
    holder.wait(timeout=30)
    assert waited > 1.0  # it did wait for the holder, then went on


def test_a_killed_run_leaves_no_lock_behind(tmp_path: Path) -> None:
    area = WorkArea(tmp_path / "data")
    holder = _hold(area, 60)
    with pytest.raises(WarehouseBusyError), warehouse_lock(area, "too early", wait_seconds=0):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with warehouse_lock(area, "after the kill", wait_seconds=0) as outermost:
        assert outermost


def test_the_lock_is_reentrant_within_a_run(tmp_path: Path) -> None:
    area = WorkArea(tmp_path / "data")
    with warehouse_lock(area, "nightly", wait_seconds=0) as outer:
        with warehouse_lock(area, "inbox subflow", wait_seconds=0) as inner:
            assert (outer, inner) == (True, False)
        holder = subprocess.run(
            [sys.executable, "-c", HOLD_SCRIPT, str(area.root), "0"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert holder.returncode != 0 and "WarehouseBusyError" in holder.stderr
    with warehouse_lock(area, "next run", wait_seconds=0) as again:
        assert again


def _runs(area: WorkArea) -> list[tuple[str, str, str | None, int | None]]:
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        rows = con.execute(
            "select flow_name, status, message, claims_sent from ops.pipeline_runs "
            "order by started_at, flow_name"
        ).fetchall()
    return [(str(a), str(b), c, d) for a, b, c, d in rows]


def test_the_manifest_records_completed_failed_and_interrupted_runs(tmp_path: Path) -> None:
    area = WorkArea(tmp_path / "data")
    with recorded_run(area, "revenue-cycle") as record:
        record.claims_sent = 12
        with recorded_run(area, "reconcile-inbox"):  # a subflow: no row of its own
            pass
    with pytest.raises(RuntimeError), recorded_run(area, "reconcile-inbox"):
        raise RuntimeError("the 835 reader choked")
    # A run that started and never recorded its end (killed): the next run marks it.
    with warehouse_lock(area, "killed run", wait_seconds=0):
        start_run(area.warehouse, "revenue-cycle", None, None)
    with recorded_run(area, "revenue-cycle"):
        pass

    runs = _runs(area)
    assert [(name, status) for name, status, _, _ in runs] == [
        ("revenue-cycle", "completed"),
        ("reconcile-inbox", "failed"),
        ("revenue-cycle", "interrupted"),
        ("revenue-cycle", "completed"),
    ]
    assert runs[0][3] == 12
    assert runs[1][2] == "RuntimeError: the 835 reader choked"
    assert runs[2][2] is not None and "killed" in runs[2][2]

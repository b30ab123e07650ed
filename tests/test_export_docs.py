"""SQL access for finance, as a user runs it: ``revcycle export`` writes every mart to a file
that holds the warehouse's rows and money exactly, and ``revcycle docs`` generates the dbt
docs and serves them on 127.0.0.1 only.

The warehouse is conftest ``small_built_area`` (the generated extract ingested and built with
dbt), copied; the AR marts exist without remittances (no claim billed yet), which is all an
export or the docs need.
"""

from __future__ import annotations

import csv
import json
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from revcycle.paths import WorkArea
from tests.cycle_support import copy_area


def _revcycle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "revcycle", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def built(small_built_area: WorkArea, tmp_path_factory: pytest.TempPathFactory) -> WorkArea:
    """conftest's built small extract, copied: the docs are generated into the work area."""
    return copy_area(small_built_area, tmp_path_factory.mktemp("export_docs") / "data")


def _marts(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    return sorted(str(r[0]) for r in rows)


def test_parquet_export_holds_every_mart_with_exact_rows_and_money(
    built: WorkArea, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    result = _revcycle(
        "export", "--format", "parquet", "--out", str(out), "--data-dir", str(built.root)
    )

    assert result.returncode == 0, result.stderr
    marts = _marts(built.warehouse)
    assert {"fct_claims", "fct_claim_balances", "claims_ready_to_bill"} <= set(marts)
    assert sorted(p.name for p in out.iterdir()) == [f"{m}.parquet" for m in marts]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        for mart, money in (
            ("fct_claims", "total_charge_amount"),
            ("fct_claim_lines", "charge_amount"),
            ("fct_claim_balances", "charge_amount"),
        ):
            in_warehouse = con.execute(
                f"select count(*), sum({money}) from marts.{mart}"
            ).fetchone()
            parquet = str(out / f"{mart}.parquet")
            in_file = con.execute(
                f"select count(*), sum({money}) from read_parquet(?)", [parquet]
            ).fetchone()
            assert in_warehouse is not None and in_warehouse[0] > 0
            assert in_file == in_warehouse, mart
            # The money column is still DECIMAL(18,2), not a float.
            (kind,) = con.execute(
                f"select typeof({money}) from read_parquet(?) limit 1", [parquet]
            ).fetchone() or ("",)
            assert kind == "DECIMAL(18,2)"
        rows = con.execute("select count(*) from marts.dim_patients").fetchone()
    assert f"marts.dim_patients: {rows[0] if rows else 0:,} rows" in result.stdout


def test_csv_export_writes_a_file_per_mart_with_every_row(built: WorkArea, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    result = _revcycle(
        "export", "--format", "csv", "--out", str(out), "--data-dir", str(built.root)
    )

    assert result.returncode == 0, result.stderr
    marts = _marts(built.warehouse)
    assert sorted(p.name for p in out.iterdir()) == [f"{m}.csv" for m in marts]
    with (out / "fct_claims.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        expected = con.execute(
            "select count(*), sum(total_charge_amount)::varchar from marts.fct_claims"
        ).fetchone()
    assert expected is not None
    assert len(rows) == expected[0]
    assert str(sum(Decimal(r["total_charge_amount"]) for r in rows)) == expected[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own server)
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_docs_are_generated_and_served_on_localhost(built: WorkArea) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "revcycle",
            "docs",
            "--port",
            str(port),
            "--data-dir",
            str(built.root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        status, page = 0, b""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:  # not listening yet: dbt docs generate is still running
                time.sleep(1)
        assert server.poll() is None, server.communicate()
        assert status == 200
        assert b"dbt" in page

        target = built.root / "dbt" / "target"
        assert (target / "index.html").is_file()
        catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
        nodes = {node["metadata"]["name"] for node in catalog["nodes"].values()}
        assert {"fct_claims", "fct_claim_balances", "fct_denials"} <= nodes
        assert _get(f"http://127.0.0.1:{port}/catalog.json")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/manifest.json")[0] == 200
        # Only what the docs site needs is served, not the rest of dbt's target folder.
        assert _get(f"http://127.0.0.1:{port}/run_results.json")[0] == 404
        assert _get(f"http://127.0.0.1:{port}/compiled/")[0] == 404
    finally:
        server.terminate()  # by PID: the process this test started
        server.communicate(timeout=30)


@pytest.mark.parametrize("command", ["statements", "export", "docs"])
def test_new_commands_have_help(command: str) -> None:
    result = _revcycle(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert command in _revcycle("--help").stdout

"""PHI stays out of logs, and files holding PHI are the owner's alone.

Runs ``revcycle demo`` as a user would (a subprocess, its own Prefect home, so the temporary
Prefect server's database holds exactly this run's logs), then searches everything the run
printed or logged - the console output, dbt's log files, every log line of every Prefect
flow and task run, the run manifest - for the demo patients' names, dates of birth and member
ids. None may appear. Then every file the run wrote that carries patient data (extracts,
warehouse, 837s, 999/277CA/835s, archive, quarantine) must be readable by its owner only.
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import AS_OF

ENCOUNTERS = 300


def _phi_terms(extracts: Path) -> dict[str, set[str]]:
    """What may not appear: patient last and first names (as words), dates of birth (ISO and
    X12 CCYYMMDD) and member ids. Dates of birth that are also dates the run prints for other
    reasons (service dates, the as-of date) are left out: finding them proves nothing."""
    with (extracts / "patients.csv").open(encoding="utf-8", newline="") as fh:
        patients = list(csv.DictReader(fh))
    with (extracts / "coverages.csv").open(encoding="utf-8", newline="") as fh:
        coverages = list(csv.DictReader(fh))
    with (extracts / "encounters.csv").open(encoding="utf-8", newline="") as fh:
        service_dates = {row["service_date"] for row in csv.DictReader(fh)}
    not_phi_dates = service_dates | {AS_OF.isoformat(), date.today().isoformat()}
    births = {p["birth_date"] for p in patients if p["birth_date"]} - not_phi_dates
    return {
        "name": {p[k] for p in patients for k in ("last_name", "first_name") if len(p[k]) > 2},
        "birth date": births | {b.replace("-", "") for b in births},
        "member id": {c["member_id"] for c in coverages if c["member_id"]},
    }


def _find_phi(text: str, terms: dict[str, set[str]], where: str) -> list[str]:
    """Which kinds of PHI ``text`` contains, as whole words (a set lookup per token: the logs
    run to megabytes and the terms to thousands)."""
    words = {w.lower() for w in re.findall(r"[A-Za-z']+", text)}
    tokens = set(re.findall(r"[0-9A-Za-z]+", text))
    dates = set(re.findall(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])", text))
    found = []
    if words & {name.lower() for name in terms["name"]}:
        found.append(f"{where}: a patient name")
    if (dates | tokens) & terms["birth date"]:
        found.append(f"{where}: a birth date")
    if tokens & terms["member id"]:
        found.append(f"{where}: a member id")
    return found


def _prefect_logs(prefect_home: Path) -> str:
    databases = list(prefect_home.rglob("*.db"))
    assert databases, f"no Prefect database under {prefect_home}"
    messages: list[str] = []
    for database in databases:
        with sqlite3.connect(database) as con:
            tables = {row[0] for row in con.execute("select name from sqlite_master")}
            if "log" in tables:
                messages += [str(row[0]) for row in con.execute("select message from log")]
            if "flow_run" in tables:  # state messages (a failed run's error, for example)
                messages += [
                    str(row[0])
                    for row in con.execute("select state_name || ' ' || name from flow_run")
                ]
    return "\n".join(messages)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("phi")
    data_dir, prefect_home = root / "data", root / "prefect"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_API_URL", "PREFECT_HOME"))
    }
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "DEBUG",  # the most a support engineer would turn on
            "DO_NOT_TRACK": "1",
        }
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "revcycle",
            "demo",
            "--encounters",
            str(ENCOUNTERS),
            "--as-of",
            AS_OF.isoformat(),
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return data_dir, prefect_home, result.stdout + result.stderr


def test_the_demo_logs_no_patient_names_dates_of_birth_or_member_ids(
    demo_run: tuple[Path, Path, str],
) -> None:
    data_dir, prefect_home, console = demo_run
    terms = _phi_terms(data_dir / "extracts")
    assert all(terms.values()), "the scan needs names, dates of birth and member ids to look for"

    prefect_logs = _prefect_logs(prefect_home)
    assert "revenue" in prefect_logs.lower()  # the run's logs really are in there
    dbt_logs = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in (data_dir / "dbt").rglob("*.log")
    )
    assert dbt_logs, "dbt wrote no log"
    with duckdb.connect(str(data_dir / "warehouse" / "revcycle.duckdb"), read_only=True) as con:
        manifest = "\n".join(
            str(row) for row in con.execute("select * from ops.pipeline_runs").fetchall()
        )

    found = (
        _find_phi(console, terms, "console output")
        + _find_phi(prefect_logs, terms, "Prefect run logs")
        + _find_phi(dbt_logs, terms, "dbt logs")
        + _find_phi(manifest, terms, "run manifest")
    )
    assert found == []


def test_the_scan_would_see_phi(demo_run: tuple[Path, Path, str]) -> None:
    """The scan itself works: it finds each kind of PHI where it is (the extract)."""
    data_dir, _, _ = demo_run
    terms = _phi_terms(data_dir / "extracts")
    patients = (data_dir / "extracts" / "patients.csv").read_text(encoding="utf-8")
    coverages = (data_dir / "extracts" / "coverages.csv").read_text(encoding="utf-8")
    assert {f.split(": ")[1] for f in _find_phi(patients + coverages, terms, "extract")} == {
        "a patient name",
        "a birth date",
        "a member id",
    }


PHI_FOLDERS = ("extracts", "warehouse", "outbox", "inbox", "archive", "quarantine")


def test_files_holding_phi_are_owner_only(demo_run: tuple[Path, Path, str]) -> None:
    data_dir, _, _ = demo_run
    checked, open_to_others = 0, []
    for folder in PHI_FOLDERS:
        for path in (data_dir / folder).rglob("*"):
            if path.is_file():
                checked += 1
                if stat.S_IMODE(path.stat().st_mode) & 0o077:
                    open_to_others.append(
                        f"{path.relative_to(data_dir)} {oct(path.stat().st_mode)}"
                    )
    assert checked > 10  # extracts, the warehouse, 837s and the replies were all written
    assert (data_dir / "outbox" / "837").is_dir()
    assert open_to_others == []

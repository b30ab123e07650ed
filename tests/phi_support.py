"""Searching what a run logged for PHI, and checking who may read what it wrote.

Used by the demo-size flow test (tests/flows/test_revenue_cycle.py), which runs the demo flow
and then searches everything it printed or logged - console output, every Prefect log line
and flow-run state in the test server's database, dbt's log files, the run manifest - for the
demo patients' names, dates of birth and member ids, and checks that every file it wrote under
the folders that hold patient data is owner-only. tests/test_phi.py checks the search itself.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import stat
from datetime import date
from itertools import pairwise
from pathlib import Path

PHI_FOLDERS = ("extracts", "warehouse", "outbox", "inbox", "archive", "quarantine")


def phi_terms(extracts: Path, run_dates: set[date]) -> dict[str, set[str]]:
    """What may not appear: patient names (first and last name together), dates of birth
    (ISO and X12 CCYYMMDD) and member ids. Dates of birth that are also dates
    the run prints for other reasons (service dates, ``run_dates``) are left out: finding them
    proves nothing."""
    with (extracts / "patients.csv").open(encoding="utf-8", newline="") as fh:
        patients = list(csv.DictReader(fh))
    with (extracts / "coverages.csv").open(encoding="utf-8", newline="") as fh:
        coverages = list(csv.DictReader(fh))
    with (extracts / "encounters.csv").open(encoding="utf-8", newline="") as fh:
        service_dates = {row["service_date"] for row in csv.DictReader(fh)}
    not_phi_dates = service_dates | {d.isoformat() for d in run_dates}
    births = {p["birth_date"] for p in patients if p["birth_date"]} - not_phi_dates
    return {
        # A name is looked for as the pair of first and last name in either order (how a
        # leak would read: "Jane Doe", "DOE, JANE", "DOE*JANE"): single first or last names
        # are also ordinary words ("Will", "Mark", "Case") that logs hold for other reasons.
        "name": {
            f"{p['first_name']} {p['last_name']}".lower()
            for p in patients
            if p["first_name"] and p["last_name"]
        },
        "birth date": births | {b.replace("-", "") for b in births},
        "member id": {c["member_id"] for c in coverages if c["member_id"]},
    }


def find_phi(text: str, terms: dict[str, set[str]], where: str) -> list[str]:
    """Which kinds of PHI ``text`` contains, as whole words (a set lookup per token: logs run
    to megabytes and the terms to thousands)."""
    words = [w.lower() for w in re.findall(r"[A-Za-z'-]+", text)]
    pairs = {f"{a} {b}" for a, b in pairwise(words)}
    pairs |= {f"{b} {a}" for a, b in pairwise(words)}
    tokens = set(re.findall(r"[0-9A-Za-z]+", text))
    dates = set(re.findall(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])", text))
    found = []
    if pairs & terms["name"]:
        found.append(f"{where}: a patient name")
    if (dates | tokens) & terms["birth date"]:
        found.append(f"{where}: a birth date")
    if tokens & terms["member id"]:
        found.append(f"{where}: a member id")
    return found


def prefect_log_text(database: Path) -> str:
    """Every log message and flow/task-run name and state in a Prefect server database."""
    messages: list[str] = []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as con:
        tables = {row[0] for row in con.execute("select name from sqlite_master")}
        if "log" in tables:
            messages += [str(row[0]) for row in con.execute("select message from log")]
        for runs in ("flow_run", "task_run"):
            if runs in tables:
                messages += [
                    f"{row[0]} {row[1]}"
                    for row in con.execute(f"select name, state_name from {runs}")
                ]
    return "\n".join(messages)


def files_open_to_others(data_dir: Path) -> tuple[int, list[str]]:
    """(files checked, those readable or writable by group or others) under PHI_FOLDERS."""
    checked, open_to_others = 0, []
    for folder in PHI_FOLDERS:
        for path in (data_dir / folder).rglob("*"):
            if path.is_file():
                checked += 1
                mode = stat.S_IMODE(path.stat().st_mode)
                if mode & 0o077:
                    open_to_others.append(f"{path.relative_to(data_dir)} {oct(mode)}")
    return checked, open_to_others

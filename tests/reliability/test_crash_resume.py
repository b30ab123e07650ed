"""Crash and resume: the pipeline killed with SIGKILL inside each stage, then run again, ends
exactly where an uninterrupted run ends.

How. tests/reliability/crash_driver.py runs the stages of tests/cycle_support.py (the flow
without Prefect) as a subprocess and kills itself at a chosen point inside a stage (the real
code runs up to the kill; see its docstring for every point). The module fixture runs the
driver once, uninterrupted, on a generated extract (150 encounters, fixed seeds and date:
the run is deterministic) and keeps a copy of the work area after every stage. Each case
starts from a copy of the reference as it was before the stages under test, kills the driver
at one crash point after another (each killed run is followed by a run that resumes at the
case's first stage: the killed stage, or the gate for the 837 writer, which writes the frames
the gate validated), reruns it without a crash, and compares the work area with the
reference's after the same stage. Several crash points share one copied area to keep the
module within minutes (a dbt build is 25-50 s here); each is checked right after its kill.

What is compared (nothing is sampled):

- every table of the warehouse (raw, ops, staging, intermediate, marts, code sets) and every
  marts view, as multisets of rows, except the run history (``ops.pipeline_runs``,
  ``ops.gate_runs``, ``ops.gate_failures`` and their marts ``fct_pipeline_runs``,
  ``fct_gate_runs``, ``fct_gate_failures``: run ids and clocks, and a killed run is history
  too) and the clock columns ``_loaded_at``/``loaded_at`` (when a file was loaded). Their
  *order* still counts: payment order, latest delivery and repeat acknowledgements are
  derived from it, in tables that are compared. ``ops.load_manifest`` is compared without its
  ``load_id``/``loaded_at``; its ``skipped`` rows may add the one file a crash left in the
  inbox after loading it (the rerun skips it by checksum);
- every file, byte for byte, in the outbox, the inbox (the simulation's state included), the
  archive and the quarantine: 837 file names carry our control numbers, which the rerun must
  give out exactly as the uninterrupted run did;
- the outbox: no temp or other file besides published ``*.x12``; every claim id in exactly
  one 837 file, and each file's claims are exactly the submissions recorded for it;
- the ledger (``marts.fct_ar_ledger``): no ledger entry twice, the same entries and totals;
- the run manifest: each killed run is marked ``interrupted``, the rerun ``completed``, and
  the rerun took the warehouse lock at once (the driver waits 0 s: a stale lock fails it).

Whether a stage's rerun leaves the same state as the uninterrupted run is checked right
after that stage; the later stages are deterministic in that state (and each of them is the
stage under test of a later case), so the cases stop at the first stage whose output holds
everything the crash could have disturbed: ingest and the first dbt build at the marts,
gate and writer at the outbox, the simulated payers at the inbox, the inbox loader and the
reconciliation build at the reconciled marts and ledger.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from revcycle.paths import project_root
from revcycle.x12.read_837 import read_837_claims
from tests.reliability.area_state import diff, has_warehouse, query, warehouse_state
from tests.reliability.crash_driver import DEFAULT_AS_OF, STAGES

AS_OF: date = DEFAULT_AS_OF
ENCOUNTERS = 150
EXTRACT_SEED = 11
PUBLISHED_837 = re.compile(r"[A-Z0-9]+_837[PI]_[0-9]{9}\.x12")
WATCHED_FOLDERS = ("outbox", "inbox", "archive", "quarantine")


# --------------------------------------------------------------------------- driver, areas


def run_driver(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.crash_driver", "--root", str(root), *args],
        cwd=project_root(),
        env={**os.environ, "REVCYCLE_LOCK_WAIT_SECONDS": "0", "DO_NOT_TRACK": "1"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def crash_detail(result: subprocess.CompletedProcess[str], stage: str, point: str) -> str:
    """What the driver said it killed (the file or node), after checking it died by SIGKILL
    at that very point."""
    assert result.returncode == -9, (
        f"the driver was to die at {stage} {point} but exited {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("CRASH ")]
    assert len(lines) == 1 and lines[0].startswith(f"CRASH {stage} {point} "), result.stderr
    return lines[0].removeprefix(f"CRASH {stage} {point} ")


@dataclass(frozen=True)
class Reference:
    root: Path  # the uninterrupted run's work area
    snapshots: Path  # <stage>/: the work area after that stage; start/: before any

    def copy(self, snapshot: str, dest: Path) -> Path:
        """A copy of the reference after ``snapshot``, with dbt's partial parse (the parse
        cache, not state) so that the copy's first build skips parsing."""
        shutil.copytree(self.snapshots / snapshot, dest)
        parse_cache = Path("dbt", "target", "partial_parse.msgpack")
        if not (dest / parse_cache).exists():
            (dest / parse_cache).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.root / parse_cache, dest / parse_cache)
        return dest


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    from revcycle.extracts.generate import generate_extract

    base = tmp_path_factory.mktemp("crash_reference")
    root, snapshots = base / "data", base / "snapshots"
    generate_extract(
        out_dir=root / "extracts",
        answer_key_dir=base / "answer_keys",
        encounters=ENCOUNTERS,
        seed=EXTRACT_SEED,
        as_of=AS_OF,
    )
    shutil.copytree(root, snapshots / "start")
    result = run_driver(root, "--snapshot-dir", str(snapshots))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert sorted(p.name for p in snapshots.iterdir()) == sorted(("start", *STAGES))
    return Reference(root=root, snapshots=snapshots)


# ------------------------------------------------------------------------------ comparison


def skipped_files(root: Path) -> set[tuple[str, str]]:
    if not has_warehouse(root):
        return set()
    rows = query(root, "select file_name, sha256 from ops.load_manifest where status = 'skipped'")
    return {(str(name), str(sha)) for name, sha in rows}


def files_state(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file in the outbox, inbox, archive and quarantine."""
    found: dict[str, str] = {}
    for folder in WATCHED_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() or path.is_symlink():
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_same_as_reference(
    actual: Path, expected: Path, *, left_in_inbox: tuple[str, ...] = ()
) -> None:
    """The whole comparison of the module docstring. ``left_in_inbox``: files a crash left in
    the inbox after loading them, which the rerun skipped (one more ``skipped`` row each)."""
    got, want = warehouse_state(actual), warehouse_state(expected)
    assert sorted(got) == sorted(want), (
        f"relations only in the rerun: {sorted(set(got) - set(want))}, "
        f"only in the reference: {sorted(set(want) - set(got))}"
    )
    different = [
        diff(name, got[name], want[name]) for name in sorted(got) if got[name] != want[name]
    ]
    assert not different, "\n".join(different)

    skipped_now = skipped_files(actual)
    extra = {(name, sha) for name, sha in skipped_now if name in left_in_inbox}
    assert {name for name, _ in extra} == set(left_in_inbox)
    assert skipped_now - extra == skipped_files(expected)

    files, want_files = files_state(actual), files_state(expected)
    assert sorted(files) == sorted(want_files), (
        f"files only in the rerun: {sorted(set(files) - set(want_files))}, "
        f"only in the reference: {sorted(set(want_files) - set(files))}"
    )
    changed = sorted(p for p in files if files[p] != want_files[p])
    assert not changed, f"files whose bytes differ from the reference: {changed}"


def assert_outbox_sound(root: Path) -> Counter[str]:
    """No temp or stray file in the outbox; each claim in exactly one 837 file; each file's
    claims are exactly the submissions recorded for it. Returns claim id -> times sent."""
    outbox = root / "outbox" / "837"
    names = sorted(p.name for p in outbox.iterdir()) if outbox.is_dir() else []
    stray = [name for name in names if not PUBLISHED_837.fullmatch(name)]
    assert not stray, f"not a published 837 file: {stray}"
    sent: Counter[str] = Counter()
    recorded = (
        query(
            root,
            "select file_name, claim_id from ops.submissions where claim_line_id is null",
        )
        if has_warehouse(root)
        else []
    )
    by_file: dict[str, Counter[str]] = {}
    for file_name, claim_id in recorded:
        by_file.setdefault(str(file_name), Counter())[str(claim_id)] += 1
    for name in names:
        claims = Counter(c.claim_id for c in read_837_claims((outbox / name).read_bytes(), name))
        assert claims, f"{name} holds no claim"
        assert claims == by_file.pop(name, Counter()), f"{name}: claims differ from submissions"
        sent += claims
    assert not by_file, f"submissions recorded for files not in the outbox: {sorted(by_file)}"
    twice = sorted(claim for claim, times in sent.items() if times > 1)
    assert not twice, f"claims sent more than once: {twice}"
    return sent


def assert_ledger(actual: Path, expected: Path) -> None:
    twice = query(
        actual,
        "select ledger_entry_id from marts.fct_ar_ledger group by 1 having count(*) > 1",
    )
    assert twice == []
    totals = (
        "select event_type, count(*), sum(amount) from marts.fct_ar_ledger group by 1 order by 1"
    )
    got, want = query(actual, totals), query(expected, totals)
    assert got == want
    assert any(event != "charge" and amount != 0 for event, _, amount in got), got


def run_statuses(root: Path) -> Counter[str]:
    if not has_warehouse(root):
        return Counter()
    return Counter(str(s) for (s,) in query(root, "select status from ops.pipeline_runs"))


# ------------------------------------------------------------------------------- scenarios


CrashCheck = Callable[[Path, "Reference", str], None]


@dataclass(frozen=True)
class Crash:
    stage: str
    point: str
    check: CrashCheck  # right after the kill: (work area, reference, detail)


@dataclass(frozen=True)
class Scenario:
    start: str  # the reference snapshot the area starts from
    crashes: tuple[Crash, ...]  # killed in turn; each run resumes at ``resume``
    resume: str
    until: str  # the last stage run; compared with the reference after it
    final_check: Callable[[Path, Reference, list[str]], None] | None = None
    left_in_inbox: bool = False  # the first crash's file was loaded but left in the inbox


def _raw_rows_of(root: Path, table: str, file_name: str) -> int:
    return int(
        query(root, f"select count(*) from raw.{table} where _source_file = ?", [file_name])[0][0]
    )


def _manifest(root: Path, file_name: str) -> list[str]:
    rows = query(
        root, "select status from ops.load_manifest where file_name = ? order by 1", [file_name]
    )
    return [str(r[0]) for r in rows]


def check_ingest_killed_mid_file(root: Path, ref: Reference, detail: str) -> None:
    # Killed inside diagnoses.csv's transaction: nothing of it, the two files before it whole.
    assert detail == "diagnoses.csv"
    assert _raw_rows_of(root, "diagnoses", "diagnoses.csv") == 0
    assert _manifest(root, "diagnoses.csv") == []
    for table in ("charges", "coverages"):
        want = _raw_rows_of(ref.snapshots / "ingest", table, f"{table}.csv")
        assert want > 0 and _raw_rows_of(root, table, f"{table}.csv") == want
        assert _manifest(root, f"{table}.csv") == ["loaded"]


def check_build_killed_mid_dag(root: Path, ref: Reference, detail: str) -> None:
    # The rerun of the ingest finished every file exactly like the uninterrupted run ...
    got, want = warehouse_state(root), warehouse_state(ref.snapshots / "ingest")
    for name in [n for n in want if n.startswith("raw.") or n == "ops.load_manifest"]:
        assert got[name] == want[name], diff(name, got[name], want[name])
    # ... and the build died after fct_claims committed, before the ledger was built.
    assert "fct_claims finished (success)" in detail
    count = "select count(*) from marts.fct_claims"
    assert query(root, count) == query(ref.snapshots / "dbt-build", count)
    ledger = query(
        root,
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'fct_ar_ledger'",
    )
    assert ledger == [(0,)]


def check_gate_killed_before_record(root: Path, ref: Reference, detail: str) -> None:
    assert detail == "0 failures, not recorded"
    runs = "select count(*) from ops.gate_runs"
    assert query(root, runs) == query(ref.snapshots / "dbt-build", runs) == [(0,)]
    assert not (root / "outbox" / "837").exists() or not any((root / "outbox" / "837").iterdir())
    assert query(root, "select count(*) from ops.submissions") == [(0,)]


def _reference_837(ref: Reference) -> list[Path]:
    return sorted((ref.snapshots / "write-837" / "outbox" / "837").glob("*.x12"))


def check_837_half_written(root: Path, ref: Reference, detail: str) -> None:
    first, second = _reference_837(ref)[:2]
    assert detail.startswith("file 2: ")
    outbox = root / "outbox" / "837"
    assert sorted(p.name for p in outbox.iterdir()) == [f".{second.name}.tmp", first.name]
    assert (outbox / first.name).read_bytes() == first.read_bytes()
    half = (outbox / f".{second.name}.tmp").read_bytes()
    assert 0 < len(half) < len(second.read_bytes()) and second.read_bytes().startswith(half)
    # Only the published file's claims are recorded as sent.
    files = query(root, "select distinct file_name from ops.submissions")
    assert files == [(first.name,)]


def check_837_committed_not_published(root: Path, ref: Reference, detail: str) -> None:
    reference = _reference_837(ref)
    assert detail == "file 3 committed"
    # This run emitted files 2, 3 and 4: the leftover half file 2 was deleted and written again
    # with the same control numbers; the kill came after file 4's commit, before its rename.
    # Counted from this run's commits: file 3 of this run is the 4th file.
    fourth = reference[3]
    outbox = root / "outbox" / "837"
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        [*(p.name for p in reference[:3]), f".{fourth.name}.tmp"]
    )
    assert (outbox / f".{fourth.name}.tmp").read_bytes() == fourth.read_bytes()
    recorded = query(root, "select distinct file_name from ops.submissions order by 1")
    assert recorded == [(p.name,) for p in reference[:4]]


def check_payers_killed_before_state(root: Path, ref: Reference, detail: str) -> None:
    assert detail.startswith("835/") and detail.endswith(".x12")
    assert not (root / "inbox" / ".sim_state.json").exists()
    written = (root / "inbox" / detail).read_bytes()
    assert written == (ref.snapshots / "simulated-payers" / "inbox" / detail).read_bytes()


def _835_files(root: Path, folder: str) -> list[str]:
    return sorted(p.name for p in (root / folder / "835").glob("*.x12"))


def check_inbox_killed_before_archive(root: Path, ref: Reference, detail: str) -> None:
    # The 2nd 835's rows are committed; the file is still in the inbox, not archived.
    delivered = _835_files(ref.snapshots / "simulated-payers", "inbox")
    assert detail == delivered[1]
    assert _835_files(root, "archive") == delivered[:1]
    assert _835_files(root, "inbox") == delivered[1:]
    assert _raw_rows_of(root, "x12_remit_payments", detail) > 0
    assert _manifest(root, detail) == ["loaded"]


def check_inbox_killed_mid_file(root: Path, ref: Reference, detail: str) -> None:
    # The rerun skipped and archived the 2nd 835 (loaded before), loaded the 3rd and 4th and
    # was killed inside the 5th's transaction: nothing of the 5th is in the warehouse.
    delivered = _835_files(ref.snapshots / "simulated-payers", "inbox")
    assert detail == delivered[4]
    assert _835_files(root, "archive") == delivered[:4]
    assert _835_files(root, "inbox") == delivered[4:]
    assert _manifest(root, delivered[1]) == ["loaded", "skipped"]
    assert _raw_rows_of(root, "x12_remit_payments", detail) == 0
    assert _raw_rows_of(root, "x12_remit_claims", detail) == 0
    assert _manifest(root, detail) == []


def check_reconcile_killed_after_staging(root: Path, ref: Reference, detail: str) -> None:
    assert "stg_x12__remit_claims finished (success)" in detail
    staged = "select count(*) from staging.stg_x12__remit_claims"
    assert query(root, staged) == query(ref.root, staged) != [(0,)]
    ledger = "select count(*) from marts.fct_ar_ledger"
    assert query(root, ledger) == query(ref.snapshots / "load-inbox", ledger)


def check_reconcile_killed_before_ledger_commit(root: Path, ref: Reference, detail: str) -> None:
    assert detail.endswith("fct_ar_ledger about to commit")
    # The ledger's transaction died with the process: the ledger is still the one before.
    ledger = "select * from marts.fct_ar_ledger order by all"
    assert query(root, ledger) == query(ref.snapshots / "load-inbox", ledger)
    assert query(ref.root, "select count(*) from marts.fct_ar_ledger") != query(
        root, "select count(*) from marts.fct_ar_ledger"
    )


def final_gate_runs(root: Path, ref: Reference, details: list[str]) -> None:
    # The killed gate recorded nothing. Each later run recorded its own passing gate run: the
    # two killed in the writer and the rerun, so three; the first saw the whole batch.
    runs = query(
        root,
        "select success, claims_validated, expectations_failed from ops.gate_runs "
        "order by validated_at",
    )
    want = query(
        ref.snapshots / "write-837",
        "select success, claims_validated, expectations_failed from ops.gate_runs",
    )
    assert len(runs) == 3 and runs[0] == want[0] and want[0][1] > 0
    assert all(success and failed == 0 for success, _, failed in runs)
    assert runs[0][1] > runs[1][1] > runs[2][1] > 0  # fewer ready claims after each file sent


# One case per stage group; several crash points run in turn on one copied area (each run
# resumes at the stage of the kill), which keeps the module within a few minutes.
SCENARIOS: dict[str, Scenario] = {
    "ingest+dbt-build": Scenario(
        start="start",
        crashes=(
            Crash("ingest", "in-transaction:3", check_ingest_killed_mid_file),
            Crash("dbt-build", "after:fct_claims", check_build_killed_mid_dag),
        ),
        resume="ingest",
        until="dbt-build",
    ),
    "claims-gate+write-837": Scenario(
        start="dbt-build",
        crashes=(
            Crash("claims-gate", "after-validation", check_gate_killed_before_record),
            Crash("write-837", "partial:2", check_837_half_written),
            Crash("write-837", "committed:3", check_837_committed_not_published),
        ),
        resume="claims-gate",
        until="write-837",
        final_check=final_gate_runs,
    ),
    "simulated-payers": Scenario(
        start="write-837",
        crashes=(Crash("simulated-payers", "written:33", check_payers_killed_before_state),),
        resume="simulated-payers",
        until="simulated-payers",
    ),
    "load-inbox": Scenario(
        start="simulated-payers",
        crashes=(
            Crash("load-inbox", "before-archive:835:2", check_inbox_killed_before_archive),
            Crash("load-inbox", "in-transaction:835:3", check_inbox_killed_mid_file),
        ),
        resume="load-inbox",
        until="reconcile",
        left_in_inbox=True,
    ),
    "reconcile": Scenario(
        start="load-inbox",
        crashes=(
            Crash("reconcile", "after:stg_x12__remit_claims", check_reconcile_killed_after_staging),
            Crash(
                "reconcile",
                "before-commit:fct_ar_ledger",
                check_reconcile_killed_before_ledger_commit,
            ),
        ),
        resume="reconcile",
        until="reconcile",
    ),
}


@pytest.mark.parametrize("stages", list(SCENARIOS))
def test_killed_stage_resumes_to_the_uninterrupted_result(
    stages: str, reference: Reference, tmp_path: Path
) -> None:
    scenario = SCENARIOS[stages]
    root = reference.copy(scenario.start, tmp_path / "data")
    runs_before = run_statuses(root)
    details: list[str] = []
    for crash in scenario.crashes:
        killed = run_driver(
            root,
            "--from",
            scenario.resume,
            "--to",
            scenario.until,
            "--crash-at",
            crash.stage,
            "--crash-point",
            crash.point,
        )
        detail = crash_detail(killed, crash.stage, crash.point)
        crash.check(root, reference, detail)
        details.append(detail)

    rerun = run_driver(root, "--from", scenario.resume, "--to", scenario.until)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-6000:]

    expected = reference.snapshots / scenario.until
    assert_same_as_reference(
        root, expected, left_in_inbox=(details[0],) if scenario.left_in_inbox else ()
    )
    if STAGES.index(scenario.until) >= STAGES.index("write-837"):
        sent = assert_outbox_sound(root)
        assert sent == assert_outbox_sound(expected) and sum(sent.values()) > 0
    if scenario.until == "reconcile":
        assert_ledger(root, expected)
    if scenario.final_check is not None:
        scenario.final_check(root, reference, details)

    # Every killed run is marked interrupted (the reference's own run, copied while it was
    # running, too); the rerun completed.
    runs = run_statuses(root)
    assert runs["running"] == 0
    assert runs["interrupted"] == runs_before["interrupted"] + runs_before["running"] + len(
        scenario.crashes
    )
    assert runs["completed"] == runs_before["completed"] + 1

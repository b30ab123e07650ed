"""End-to-end benchmark: the whole revenue cycle on a generated workload, stage by stage.

Workloads (fixed seed, so the same workload is the same data on every machine):

    S  10,000 encounters      M  100,000 encounters      L  1,000,000 encounters

Every stage runs the real code, in one process, in the order the nightly flow runs it:
generate the extract, ingest it, ``dbt build`` (staging, claims, scrubber, billing marts),
the claims gate (GX), writing the 837 files, the simulated clearinghouse and payers
(999, 277CA, 835), reading the inbox (the X12 readers and the raw tables), reconciliation
(``dbt build`` of the remittance, ledger and AR models) and the KPI marts. Prefect is left
out on purpose: its per-task overhead is constant and measured by the tests' flow runs; what
grows with volume is the work below it.

For each stage the harness records wall time, CPU time, the stage's own row count and rows
per second, and the peak resident memory of the process during the stage (Linux: the
process's high-water mark is reset before each stage through /proc/self/clear_refs). The
results are prepended to bench/RESULTS.md (newest first) with the machine and versions.

    .venv/bin/python bench/run.py S M          # make bench
    .venv/bin/python bench/run.py L            # make bench-large
    .venv/bin/python bench/run.py S --no-record --keep /tmp/bench-s
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import duckdb
from bench_support import (
    BENCH_DIR,
    RESULTS,
    cpu_reference_seconds,
    machine,
    peak_rss_mb,
    record,
    reset_peak_rss,
)

ROOT = BENCH_DIR.parent
WORKLOADS = {"S": 10_000, "M": 100_000, "L": 1_000_000}
SEED = 20261129
AS_OF = date(2026, 11, 1)
SIM_SEED = 7


@dataclass
class StageResult:
    name: str
    what: str
    rows: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.wall_seconds if self.wall_seconds > 0 else 0.0


@dataclass
class RunResult:
    workload: str
    encounters: int
    stages: list[StageResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    peers: list[tuple[str, str, float, int, str]] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(s.wall_seconds for s in self.stages)

    @property
    def peak_rss_mb(self) -> float:
        return max((s.peak_rss_mb for s in self.stages), default=0.0)


# Where pyinstrument reports go (bench/run.py --profile DIR); None: no profiling.
PROFILE_DIR: Path | None = None


def _timed(name: str, what: str, work: Callable[[], int], result: RunResult) -> int:
    reset_peak_rss()
    profiler = None
    if PROFILE_DIR is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    print(f"[{result.workload}] {name} ...", flush=True)
    rows = work()
    if profiler is not None and PROFILE_DIR is not None:
        profiler.stop()
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        report = PROFILE_DIR / f"{result.workload}-{slug}.txt"
        report.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    stage = StageResult(
        name=name,
        what=what,
        rows=rows,
        wall_seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
        peak_rss_mb=peak_rss_mb(),
    )
    result.stages.append(stage)
    print(
        f"[{result.workload}] {name}: {stage.wall_seconds:,.1f} s, {rows:,} {what} "
        f"({stage.rows_per_second:,.0f}/s), peak RSS {stage.peak_rss_mb:,.0f} MB",
        flush=True,
    )
    return rows


def _slowest_dbt_nodes(
    target: Path, select: list[str] | None, exclude: list[str] | None, top: int = 6
) -> str:
    """One note line: the build's wall time in dbt and its slowest nodes (run_results.json),
    so a stage's time can be traced to models without a profiler."""
    import json

    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    nodes = sorted(results["results"], key=lambda r: -float(r["execution_time"]))[:top]
    scope = " ".join([*(select or ["everything"]), *(f"minus {e}" for e in exclude or [])])
    slowest = ", ".join(
        f"{r['unique_id'].split('.')[2]} {float(r['execution_time']):.1f} s" for r in nodes
    )
    return (
        f"dbt build ({scope}): {len(results['results'])} nodes in "
        f"{float(results['elapsed_time']):.1f} s; slowest: {slowest}"
    )


def _count(warehouse: Path, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def run_workload(workload: str, root: Path) -> RunResult:
    from revcycle.claims.emit import emit_claim_files
    from revcycle.config import submitter_from_env
    from revcycle.extracts.generate import generate_extract
    from revcycle.extracts.load import LoadStatus, load_extract_dir
    from revcycle.gates.claims_gate import run_claims_gate
    from revcycle.inbox import load_inbox
    from revcycle.marts import dbt_build_plain
    from revcycle.paths import WorkArea
    from revcycle.sim import answer_outbox

    encounters = WORKLOADS[workload]
    result = RunResult(workload, encounters)
    area = WorkArea(root / "data")
    area.warehouse_dir.mkdir(parents=True, exist_ok=True)

    def generate() -> int:
        summary = generate_extract(
            out_dir=area.extracts,
            answer_key_dir=root / "answer_keys",
            encounters=encounters,
            seed=SEED,
            as_of=AS_OF,
        )
        return int(summary.charges)

    def ingest() -> int:
        outcomes = load_extract_dir(area.extracts, area.warehouse, area.quarantine)
        bad = [o.file_name for o in outcomes if o.status is not LoadStatus.LOADED]
        if bad:
            raise SystemExit(f"extract files not loaded: {bad}")
        return sum(o.rows_loaded for o in outcomes)

    def build(select: list[str] | None = None, exclude: list[str] | None = None) -> None:
        args = [
            *(["--select", *select] if select else []),
            *(["--exclude", *exclude] if exclude else []),
        ]
        dbt_build_plain(area, AS_OF, args or None)
        result.notes.append(_slowest_dbt_nodes(area.root / "dbt" / "target", select, exclude))

    def billing_marts() -> int:
        build(exclude=["path:models/marts/kpi"])
        return _count(area.warehouse, "select count(*) from marts.fct_claim_lines")

    gate_holder: dict[str, object] = {}

    def gate() -> int:
        with duckdb.connect(str(area.warehouse)) as con:
            verdict = run_claims_gate(con)
        if not verdict.success:
            raise SystemExit(f"the claims gate failed: {verdict.summary()}")
        gate_holder["gate"] = verdict
        return len(verdict.claims)

    def write_837() -> int:
        verdict = gate_holder.pop("gate")
        # A sample of the same claims for the writer-vs-baseline comparison (after the run).
        sample_ids = set(verdict.claims["claim_id"].head(PEER_837_CLAIMS))  # type: ignore[attr-defined]
        gate_holder["sample"] = (
            verdict.claims[verdict.claims["claim_id"].isin(sample_ids)],  # type: ignore[attr-defined]
            verdict.lines[verdict.lines["claim_id"].isin(sample_ids)],  # type: ignore[attr-defined]
        )
        with duckdb.connect(str(area.warehouse)) as con:
            emitted = emit_claim_files(
                con,
                verdict.claims,  # type: ignore[attr-defined]
                verdict.lines,  # type: ignore[attr-defined]
                area.outbox / "837",
                submitter_from_env(),
                datetime.combine(AS_OF, time_of_day(9, 0)),
            )
        return int(emitted.claim_count)

    def adjudicate() -> int:
        with duckdb.connect(str(area.warehouse), read_only=True) as con:
            fees = {
                str(payer): Decimal(str(percent))
                for payer, percent in con.execute(
                    "select payer_id, cast(allowed_percent_of_charge as varchar) "
                    "from marts.dim_payers"
                ).fetchall()
            }
        answered = answer_outbox(area.outbox, area.inbox, fees, seed=SIM_SEED, today=AS_OF)
        return int(answered.claims_received)

    def read_inbox() -> int:
        outcomes = load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine)
        if any(o.outcome.status is LoadStatus.QUARANTINED for o in outcomes):
            raise SystemExit("an inbox file was quarantined")
        return _count(area.warehouse, "select count(*) from raw.x12_remit_claims")

    def reconcile() -> int:
        build(select=["source:x12+", "source:ops+"], exclude=["path:models/marts/kpi"])
        return _count(area.warehouse, "select count(*) from marts.fct_ar_ledger")

    def kpi_marts() -> int:
        build(select=["path:models/marts/kpi"])
        return _count(area.warehouse, "select count(*) from marts.fct_ar_ledger")

    _timed("generate", "charge lines", generate, result)
    _timed("ingest", "rows", ingest, result)
    _timed("dbt build: billing", "claim lines", billing_marts, result)
    _timed("claims gate (GX)", "claims", gate, result)
    _timed("write 837", "claims", write_837, result)
    _timed("simulated payers", "claims", adjudicate, result)
    _timed("read inbox", "claim payments", read_inbox, result)
    _timed("dbt build: reconcile", "ledger entries", reconcile, result)
    _timed("dbt build: KPI marts", "ledger entries", kpi_marts, result)
    billed = _count(area.warehouse, "select count(*) from marts.fct_claims")
    result.notes.append(f"{billed:,} claims built; warehouse {_size_mb(area.warehouse):,.0f} MB")
    claims_df, lines_df = gate_holder.pop("sample")  # type: ignore[misc]
    result.peers = measure_peers(area.archive / "835", claims_df, lines_df, root / "peers")
    return result


# --------------------------------------------------------------------------------------------
# Peers, measured in the same run on the run's own data

PEER_837_CLAIMS = 20_000  # claims of the run written by our writer and by the plain baseline
PEER_835_CLAIMS = 3_000  # about this many claims: pyx12 reads about 700 claims/s


def measure_peers(
    archive_835: Path, claims_df: object, lines_df: object, work: Path
) -> list[tuple[str, str, float, int, str]]:
    """(stage, contender, seconds, rows, unit) for our 835 reader against pyx12 and
    edi-835-parser on one of the run's own 835 files, and our 837P writer against a plain
    string-join baseline on a sample of the run's own claims."""
    import io

    import bench_835_reader
    import bench_837p_writer

    from revcycle.claims.model import ClaimType, claims_from_frames

    rows: list[tuple[str, str, float, int, str]] = []
    files = sorted(archive_835.glob("*"))
    if files:
        # The file whose claim count is nearest PEER_835_CLAIMS (pyx12 is slow).
        counts = {f: f.read_bytes().count(b"CLP*") for f in files}
        chosen = min(files, key=lambda f: (abs(counts[f] - PEER_835_CLAIMS), f.name))
        work.mkdir(parents=True, exist_ok=True)
        target = work / "run.835"
        target.write_bytes(chosen.read_bytes())
        (work / "warmup.835").write_bytes(
            bench_835_reader.generate_835(50, claims_per_st=25, seed=1)
        )
        for name in ("revcycle", "edi-835-parser", "pyx12"):
            print(f"peers: {name} on {chosen.name} ({counts[chosen]:,} claims) ...", flush=True)
            measured = bench_835_reader.run_contender(name, target)
            rows.append(("read 835", name, float(measured["wall"]), counts[chosen], "claims"))
    claims = [
        c
        for c in claims_from_frames(claims_df, lines_df)  # type: ignore[arg-type]
        if c.claim_type is ClaimType.PROFESSIONAL
    ]
    if claims:
        for name, write in (
            ("revcycle 837P writer", bench_837p_writer.write_with_writer),
            ("plain string join", bench_837p_writer.write_baseline),
        ):
            started = time.perf_counter()
            write(io.StringIO(), claims)
            rows.append(("write 837P", name, time.perf_counter() - started, len(claims), "claims"))
    return rows


def _size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


VERSIONED_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "pandas", "pyarrow")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def render(results: list[RunResult], cpu_reference: tuple[float, float]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    names = " ".join(r.workload for r in results)
    lines = [f"## {stamp}: end to end, workloads {names} (`bench/run.py`)", ""]
    for run in results:
        lines += [
            f"**{run.workload}: {run.encounters:,} encounters**, "
            f"{run.total_seconds:,.1f} s end to end, peak RSS {run.peak_rss_mb:,.0f} MB",
            "",
            "| stage | wall s | CPU s | rows | rows/s | peak RSS MB |",
            "|---|---|---|---|---|---|",
        ]
        for s in run.stages:
            lines.append(
                f"| {s.name} | {s.wall_seconds:,.1f} | {s.cpu_seconds:,.1f} | {s.rows:,} {s.what} "
                f"| {s.rows_per_second:,.0f} | {s.peak_rss_mb:,.0f} |"
            )
        lines += ["", *(f"- {note}" for note in run.notes), ""]
        if run.peers:
            lines += [
                "Peers on the run's own data (same machine, same run):",
                "",
                "| stage | contender | wall s | rows | rows/s |",
                "|---|---|---|---|---|",
                *(
                    f"| {stage} | {name} | {seconds:,.2f} | {count:,} {unit} | "
                    f"{(count / seconds if seconds else 0):,.0f} |"
                    for stage, name, seconds, count, unit in run.peers
                ),
                "",
            ]
    by_name = {r.workload: r for r in results}
    if "L" in by_name and "M" in by_name:
        ratio = by_name["L"].total_seconds / by_name["M"].total_seconds
        lines += [f"time(L) / time(M) = {ratio:.1f} (target at most 10)", ""]
    facts = machine()
    versions = ", ".join(f"{p} {_version(p)}" for p in VERSIONED_PACKAGES)
    lines += [
        "| measure | result |",
        "|---|---|",
        f"| machine | {facts['cpu']}, {facts['cores']} cores, {facts['memory']}, "
        f"{facts['platform']} |",
        f"| python / load average | {facts['python']} / {facts['load']} (1-minute, at the end) |",
        f"| CPU reference (start / end) | {cpu_reference[0]:.2f} s / {cpu_reference[1]:.2f} s "
        "(a fixed Python workload, `bench_support.cpu_reference_seconds`: higher is a slower "
        "machine) |",
        f"| versions | {versions} |",
        f"| commit | {facts['commit']} |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "workloads", nargs="+", choices=sorted(WORKLOADS), help="workloads to run, in order"
    )
    parser.add_argument(
        "--no-record", action="store_true", help="print the results; leave RESULTS.md alone"
    )
    parser.add_argument(
        "--keep", type=Path, help="work in this folder and keep it (default: a temporary one)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="profile every stage with pyinstrument; text reports into this folder (slower: "
        "do not record the timings of a profiled run)",
    )
    args = parser.parse_args(argv)
    global PROFILE_DIR
    PROFILE_DIR = args.profile

    if not reset_peak_rss():
        print("note: cannot reset the peak RSS here; per-stage peaks are process peaks so far")
    speed_at_start = cpu_reference_seconds()
    results: list[RunResult] = []
    for workload in args.workloads:
        if args.keep:
            root = args.keep / workload
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            results.append(run_workload(workload, root))
        else:
            with tempfile.TemporaryDirectory(prefix=f"revcycle-bench-{workload}-") as tmp:
                results.append(run_workload(workload, Path(tmp)))
    section = render(results, (speed_at_start, cpu_reference_seconds()))
    print(section)
    if not args.no_record:
        record(section)
        print(f"recorded in {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The billing pipeline as a killable subprocess, for the crash-and-resume tests.

``python -m tests.reliability.crash_driver --root DIR`` runs, on the work area ``DIR``, the
stages tests/cycle_support.py runs (flows/revenue_cycle.py without Prefect), under the
warehouse lock and run record every flow takes (:func:`revcycle.runs.recorded_run`):

    ingest -> dbt-build -> claims-gate -> write-837 -> simulated-payers -> load-inbox
    -> reconcile (``dbt build`` of ``source:x12+ source:ops+``)

``--from``/``--to`` run a slice (a rerun resumes at the stage that was killed; ``write-837``
needs the frames the gate validated, so a slice holding it starts at ``claims-gate`` at the
latest). ``--snapshot-dir S`` copies the work area to ``S/<stage>`` after each stage.

``--crash-at STAGE --crash-point SPEC`` kills this process with SIGKILL at one reproducible
point inside that stage. Nothing is mocked: the stage's real code runs up to the kill; one of
its internal functions is wrapped so that the wrapper calls ``os.kill(os.getpid(), SIGKILL)``
at that point. Before dying the driver writes one line, ``CRASH <stage> <spec> <detail>``, to
stderr (file names and node names only). Points:

- ingest ``in-transaction:N``: the N-th extract file that loads, after its rows and its
  manifest row are written, before its transaction commits;
- dbt-build / reconcile ``after:MODEL`` (the model's node finished and committed; the other
  dbt thread may be half way through another node) or ``before-commit:MODEL`` (every statement
  of the model ran inside its transaction, the COMMIT is next);
- claims-gate ``after-validation``: the suites ran, the gate run is not recorded yet;
- write-837 ``partial:N``: the N-th 837 file is half on disk (temp file, fsynced), its
  submissions are not committed; ``committed:N``: the N-th file is complete under its temp name
  and its submissions are committed, it is not renamed (published) yet;
- simulated-payers ``written:N``: the N-th reply file was written, the simulation's state is
  not saved yet;
- load-inbox ``in-transaction:KIND:N``: the N-th loaded file of inbox/KIND, rows and manifest
  row inserted, not committed; ``before-archive:KIND:N``: the N-th file of inbox/KIND to be
  archived (its load committed), not moved to the archive yet.

Deterministic on purpose: the run date is ``--as-of`` (submissions at 09:00 that day, as in
tests/cycle_support.py), the simulated payers' seed is ``--seed``. dbt runs in this process
(dbtRunner, as the flow runs PrefectDbtRunner) with the warehouse named by a path relative to
the work area, so that a copied work area keeps dbt's partial parse (its profile is the same).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import duckdb

from revcycle.paths import WorkArea, dbt_project_dir

STAGES = (
    "ingest",
    "dbt-build",
    "claims-gate",
    "write-837",
    "simulated-payers",
    "load-inbox",
    "reconcile",
)
RECONCILE_SELECT = ["source:x12+", "source:ops+"]
DEFAULT_AS_OF = date(2026, 11, 1)
DEFAULT_SEED = 11


class DriverError(RuntimeError):
    """A stage did not do what an uninterrupted run does."""


def die(stage: str, spec: str, detail: str) -> NoReturn:
    """The fault: SIGKILL to this very process (no cleanup, no finally, no atexit)."""
    sys.stderr.write(f"CRASH {stage} {spec} {detail}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: SIGKILL was sent")  # pragma: no cover


@dataclass
class Crash:
    stage: str
    spec: str

    @property
    def parts(self) -> list[str]:
        return self.spec.split(":")

    def number(self, index: int) -> int:
        value = int(self.parts[index])
        if value < 1:
            raise DriverError(f"crash point {self.spec!r}: counts start at 1")
        return value


@dataclass
class Context:
    area: WorkArea
    as_of: date
    seed: int
    crash: Crash | None
    gate: Any = None  # the GateResult of claims-gate, for write-837
    log: list[str] = field(default_factory=list)

    def crash_in(self, stage: str) -> Crash | None:
        return self.crash if self.crash is not None and self.crash.stage == stage else None


@contextmanager
def patched(module: Any, name: str, make: Callable[[Any], Any]) -> Iterator[None]:
    """Replace ``module.name`` by ``make(original)`` for the block. An attribute that is gone
    is an error: a crash point that silently never fires would prove nothing."""
    original = getattr(module, name)  # AttributeError when the code moved: fail loudly
    setattr(module, name, make(original))
    try:
        yield
    finally:
        setattr(module, name, original)


# ------------------------------------------------------------------------------------ stages


def stage_ingest(ctx: Context) -> None:
    from revcycle.extracts import load
    from revcycle.extracts.load import LoadStatus, load_extract_dir

    crash = ctx.crash_in("ingest")
    loaded = 0

    def make(original: Callable[..., None]) -> Callable[..., None]:
        def record_outcome(con: Any, outcome: Any, loaded_at: datetime) -> None:
            nonlocal loaded
            original(con, outcome, loaded_at)
            if crash is not None and outcome.status is LoadStatus.LOADED:
                loaded += 1
                if loaded == crash.number(1):
                    die("ingest", crash.spec, outcome.file_name)

        return record_outcome

    if crash is not None and crash.parts[0] != "in-transaction":
        raise DriverError(f"unknown ingest crash point {crash.spec!r}")
    with patched(load, "record_outcome", make):
        outcomes = load_extract_dir(ctx.area.extracts, ctx.area.warehouse, ctx.area.quarantine)
    bad = [o for o in outcomes if o.status not in (LoadStatus.LOADED, LoadStatus.SKIPPED)]
    if bad:
        raise DriverError(f"extract files not loaded: {[o.reason for o in bad]}")
    ctx.log.append("ingest: " + ", ".join(f"{o.file_name} {o.status.value}" for o in outcomes))


def _dbt_build(ctx: Context, stage: str, select: list[str] | None) -> None:
    from dbt.cli.main import dbtRunner

    from revcycle.marts import dbt_env, dbt_vars, release_dbt_duckdb

    crash = ctx.crash_in(stage)
    if crash is not None and crash.parts[0] not in ("after", "before-commit"):
        raise DriverError(f"unknown {stage} crash point {crash.spec!r}")
    target = f"model.revcycle.{crash.parts[1]}" if crash is not None else ""

    def callback(event: Any) -> None:
        if crash is None:
            return
        node = getattr(event.data, "node_info", None)
        if node is None or getattr(node, "unique_id", "") != target:
            return
        name = event.info.name
        if crash.parts[0] == "after" and name == "NodeFinished":
            die(stage, crash.spec, f"{target} finished ({getattr(node, 'node_status', '?')})")
        if (
            crash.parts[0] == "before-commit"
            and name == "SQLQuery"
            and str(getattr(event.data, "sql", "")).strip().upper() == "COMMIT"
        ):
            die(stage, crash.spec, f"{target} about to commit")

    project = str(dbt_project_dir())
    args = [
        "build",
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        *dbt_vars(ctx.as_of),
        "--quiet",
        *(["--select", *select] if select else []),
    ]
    cwd = Path.cwd()
    with dbt_env(ctx.area):
        # The same warehouse, named relative to the work area (see the module docstring).
        os.environ["REVCYCLE_WAREHOUSE"] = str(ctx.area.warehouse.relative_to(ctx.area.root))
        os.chdir(ctx.area.root)
        try:
            result = dbtRunner(callbacks=[callback]).invoke(args)
        finally:
            os.chdir(cwd)
            release_dbt_duckdb()
    if crash is not None:
        raise DriverError(f"{stage}: crash point {crash.spec!r} never came")
    if not result.success:
        raise DriverError(f"{stage}: dbt build failed: {result.exception or 'see dbt.log'}")


def stage_dbt_build(ctx: Context) -> None:
    _dbt_build(ctx, "dbt-build", None)


def stage_claims_gate(ctx: Context) -> None:
    from revcycle.gates import claims_gate

    crash = ctx.crash_in("claims-gate")
    if crash is not None and crash.spec != "after-validation":
        raise DriverError(f"unknown claims-gate crash point {crash.spec!r}")

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def validate_batch(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if crash is not None:
                die("claims-gate", crash.spec, f"{len(result[1])} failures, not recorded")
            return result

        return validate_batch

    with (
        patched(claims_gate, "validate_batch", make),
        duckdb.connect(str(ctx.area.warehouse)) as con,
    ):
        gate = claims_gate.run_claims_gate(con)
    if not gate.success:
        raise DriverError(gate.summary())
    ctx.gate = gate
    ctx.log.append(f"claims-gate: {gate.summary()}")


class _CommitCrash:
    """The connection the 837 writer gets, as it is, except that the N-th COMMIT is followed
    by the kill (the file's submissions are committed, its temp file not renamed yet)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, crash: Crash) -> None:
        self._con = con
        self._crash = crash
        self._commits = 0

    def commit(self) -> Any:
        result = self._con.commit()
        self._commits += 1
        if self._commits == self._crash.number(1):
            die("write-837", self._crash.spec, f"file {self._commits} committed")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def stage_write_837(ctx: Context) -> None:
    from revcycle.claims import emit
    from revcycle.config import submitter_from_env

    if ctx.gate is None:
        raise DriverError("write-837 needs the gate's frames: start at claims-gate")
    crash = ctx.crash_in("write-837")
    if crash is not None and crash.parts[0] not in ("partial", "committed"):
        raise DriverError(f"unknown write-837 crash point {crash.spec!r}")
    written = 0

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def write(claim_type: Any, out: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal written
            written += 1
            if crash is None or crash.parts[0] != "partial" or written != crash.number(1):
                return original(claim_type, out, *args, **kwargs)
            buffer = io.StringIO()
            original(claim_type, buffer, *args, **kwargs)
            text = buffer.getvalue()
            out.write(text[: len(text) // 2])
            out.flush()
            os.fsync(out.fileno())
            die("write-837", crash.spec, f"file {written}: {len(text) // 2} of {len(text)} bytes")

        return write

    with patched(emit, "_write", make), duckdb.connect(str(ctx.area.warehouse)) as con:
        target: Any = con
        if crash is not None and crash.parts[0] == "committed":
            target = _CommitCrash(con, crash)
        result = emit.emit_claim_files(
            target,
            ctx.gate.claims,
            ctx.gate.lines,
            ctx.area.outbox / "837",
            submitter_from_env(),
            datetime.combine(ctx.as_of, time(9, 0)),
        )
    if crash is not None:
        raise DriverError(f"write-837: crash point {crash.spec!r} never came")
    ctx.log.append(
        f"write-837: {len(result.files)} files, {result.claim_count} claims, "
        f"{len(result.recovered_files)} recovered, {len(result.discarded_temp_files)} discarded"
    )


def stage_simulated_payers(ctx: Context) -> None:
    from revcycle.sim import answer_outbox, clearinghouse

    crash = ctx.crash_in("simulated-payers")
    if crash is not None and crash.parts[0] != "written":
        raise DriverError(f"unknown simulated-payers crash point {crash.spec!r}")
    written = 0

    def make(original: Callable[[Path, bytes], None]) -> Callable[[Path, bytes], None]:
        def write_atomic(path: Path, data: bytes) -> None:
            nonlocal written
            original(path, data)
            written += 1
            if crash is not None and written == crash.number(1):
                die("simulated-payers", crash.spec, f"{path.parent.name}/{path.name}")

        return write_atomic

    with duckdb.connect(str(ctx.area.warehouse), read_only=True) as con:
        fees = {
            str(payer): Decimal(percent)
            for payer, percent in con.execute(
                "select payer_id, allowed_percent_of_charge from marts.dim_payers"
            ).fetchall()
        }
    with patched(clearinghouse, "write_atomic", make):
        result = answer_outbox(
            ctx.area.outbox, ctx.area.inbox, fees, seed=ctx.seed, today=ctx.as_of
        )
    if crash is not None:
        raise DriverError(f"simulated-payers: crash point {crash.spec!r} never came")
    ctx.log.append(f"simulated-payers: answered {len(result.files_answered)} files")


def stage_load_inbox(ctx: Context) -> None:
    from revcycle import inbox
    from revcycle.extracts.load import LoadStatus

    crash = ctx.crash_in("load-inbox")
    if crash is not None and crash.parts[0] not in ("in-transaction", "before-archive"):
        raise DriverError(f"unknown load-inbox crash point {crash.spec!r}")
    counts = {"loaded": 0, "archived": 0}

    def make_record(original: Callable[..., None]) -> Callable[..., None]:
        def record_outcome(con: Any, outcome: Any, loaded_at: datetime) -> None:
            original(con, outcome, loaded_at)
            if (
                crash is not None
                and crash.parts[0] == "in-transaction"
                and outcome.status is LoadStatus.LOADED
                and outcome.table_name == f"x12_{crash.parts[1]}"
            ):
                counts["loaded"] += 1
                if counts["loaded"] == crash.number(2):
                    die("load-inbox", crash.spec, outcome.file_name)

        return record_outcome

    def make_archive(original: Callable[[Path, Path], Path]) -> Callable[[Path, Path], Path]:
        def archive(path: Path, archive_dir: Path) -> Path:
            if (
                crash is not None
                and crash.parts[0] == "before-archive"
                and archive_dir.name == crash.parts[1]
            ):
                counts["archived"] += 1
                if counts["archived"] == crash.number(2):
                    die("load-inbox", crash.spec, path.name)
            return original(path, archive_dir)

        return archive

    with patched(inbox, "record_outcome", make_record), patched(inbox, "_archive", make_archive):
        outcomes = inbox.load_inbox(
            ctx.area.inbox, ctx.area.warehouse, ctx.area.archive, ctx.area.quarantine
        )
    if crash is not None:
        raise DriverError(f"load-inbox: crash point {crash.spec!r} never came")
    bad = [o.outcome for o in outcomes if o.outcome.status is LoadStatus.QUARANTINED]
    if bad:
        raise DriverError(f"inbox files quarantined: {[o.reason for o in bad]}")
    ctx.log.append(
        f"load-inbox: {sum(o.outcome.status is LoadStatus.LOADED for o in outcomes)} loaded, "
        f"{sum(o.outcome.status is LoadStatus.SKIPPED for o in outcomes)} skipped"
    )


def stage_reconcile(ctx: Context) -> None:
    _dbt_build(ctx, "reconcile", RECONCILE_SELECT)


RUNNERS: dict[str, Callable[[Context], None]] = {
    "ingest": stage_ingest,
    "dbt-build": stage_dbt_build,
    "claims-gate": stage_claims_gate,
    "write-837": stage_write_837,
    "simulated-payers": stage_simulated_payers,
    "load-inbox": stage_load_inbox,
    "reconcile": stage_reconcile,
}


# ------------------------------------------------------------------------------------- runs


def _snapshot_ignore(folder: str, names: list[str]) -> set[str]:
    """What a snapshot leaves out: dbt's logs and compiled SQL (the partial parse stays)."""
    path = Path(folder)
    if path.name == "dbt":
        return {"logs"} & set(names)
    if path.name == "target" and path.parent.name == "dbt":
        return {"compiled", "run"} & set(names)
    return set()


def run(
    area: WorkArea,
    *,
    first: str,
    last: str,
    as_of: date,
    seed: int,
    crash: Crash | None,
    snapshot_dir: Path | None,
) -> list[str]:
    from revcycle.runs import recorded_run

    stages = STAGES[STAGES.index(first) : STAGES.index(last) + 1]
    if "write-837" in stages and "claims-gate" not in stages:
        raise DriverError("a run holding write-837 starts at claims-gate at the latest")
    if crash is not None and crash.stage not in stages:
        raise DriverError(f"crash stage {crash.stage} is not run ({first}..{last})")
    ctx = Context(area=area, as_of=as_of, seed=seed, crash=crash)
    # A killed run's lock must be gone at once: waiting would hide a stale lock.
    with recorded_run(area, "revenue-cycle", as_of=as_of, wait_seconds=0.0):
        for stage in stages:
            RUNNERS[stage](ctx)
            if snapshot_dir is not None:
                shutil.copytree(area.root, snapshot_dir / stage, ignore=_snapshot_ignore)
    return ctx.log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="the work area (data dir)")
    parser.add_argument("--from", dest="first", choices=STAGES, default=STAGES[0])
    parser.add_argument("--to", dest="last", choices=STAGES, default=STAGES[-1])
    parser.add_argument("--crash-at", choices=STAGES)
    parser.add_argument("--crash-point")
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--snapshot-dir", type=Path)
    args = parser.parse_args(argv)
    if (args.crash_at is None) != (args.crash_point is None):
        parser.error("--crash-at and --crash-point go together")
    crash = Crash(args.crash_at, args.crash_point) if args.crash_at else None
    log = run(
        WorkArea(args.root.resolve()),
        first=args.first,
        last=args.last,
        as_of=args.as_of,
        seed=args.seed,
        crash=crash,
        snapshot_dir=args.snapshot_dir.resolve() if args.snapshot_dir else None,
    )
    for line in log:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

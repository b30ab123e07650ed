"""One small reconciled warehouse for the tests that need a whole cycle but not Prefect.

:func:`build_cycle_area` runs a generated extract through the real parts in the order
flows/revenue_cycle.py runs them: the loader, ``dbt build``, the claims gate, the 837 writer,
the simulated clearinghouse and payers, the inbox loader and a second ``dbt build`` of what
depends on the X12 and ops sources, all dated ``as_of`` (submissions at 09:00 that day).

The session fixture ``small_cycle_area`` (tests/conftest.py) builds it once; the KPI,
statements and dashboard tests read it, and copy it (:func:`copy_area`) before changing
anything. Each of them computes the figures it checks from the marts itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.marts import dbt_vars
from revcycle.paths import WorkArea, dbt_project_dir

SIM_SEED = 11


class CycleBuildError(AssertionError):
    """A step of the cycle did not do what it should."""


def run_dbt(
    warehouse: Path,
    work: Path,
    as_of: date | None = None,
    select: list[str] | None = None,
    *,
    full_refresh: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``dbt build`` in a subprocess on ``warehouse``, artifacts and logs under ``work``, as
    revcycle.marts runs it: ``as_of`` (when given) is the run's date, passed as
    scrub_as_of_date; ``full_refresh`` rebuilds the incremental models from scratch."""
    project = str(dbt_project_dir())
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--project-dir",
            project,
            "--profiles-dir",
            project,
            *(dbt_vars(as_of) if as_of is not None else []),
            *(["--select", *select] if select else []),
            *(["--full-refresh"] if full_refresh else []),
        ],
        env={
            **os.environ,
            "REVCYCLE_WAREHOUSE": str(warehouse.resolve()),
            "DBT_TARGET_PATH": str((work / "target").resolve()),
            "DBT_LOG_PATH": str((work / "logs").resolve()),
            "DO_NOT_TRACK": "1",
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def dbt_build(
    area: WorkArea,
    as_of: date,
    select: list[str] | None = None,
    *,
    full_refresh: bool = False,
) -> subprocess.CompletedProcess[str]:
    """:func:`run_dbt` on a work area (artifacts and logs in its ``dbt/`` folder)."""
    return run_dbt(area.warehouse, area.root / "dbt", as_of, select, full_refresh=full_refresh)


def ingest_and_build(area: WorkArea, as_of: date) -> None:
    """Load the work area's extract folder (every file must load) and ``dbt build``."""
    area.warehouse_dir.mkdir(parents=True, exist_ok=True)
    outcomes = load_extract_dir(area.extracts, area.warehouse, area.quarantine)
    if {o.status for o in outcomes} != {LoadStatus.LOADED}:
        raise CycleBuildError(f"extract not loaded: {[o.reason for o in outcomes if o.reason]}")
    built = dbt_build(area, as_of)
    if built.returncode != 0:
        raise CycleBuildError(built.stdout[-6000:])


def build_cycle_area(extract: Path, root: Path, as_of: date) -> WorkArea:
    """Copy ``extract`` into a new work area at ``root`` and run one whole cycle on it."""
    area = WorkArea(root)
    shutil.copytree(extract, area.extracts)
    ingest_and_build(area, as_of)
    bill_and_reconcile(area, as_of)
    return area


def bill_and_reconcile(area: WorkArea, as_of: date) -> None:
    """One billing night on a built work area: the claims gate, the 837 writer (whatever is
    ready, secondaries included), the simulated clearinghouse and payers, the inbox loader and
    ``dbt build`` of what depends on the X12 and ops sources."""
    from revcycle.claims.emit import emit_claim_files
    from revcycle.config import submitter_from_env
    from revcycle.gates.claims_gate import run_claims_gate
    from revcycle.inbox import load_inbox
    from revcycle.sim import answer_outbox

    with duckdb.connect(str(area.warehouse)) as con:
        gate = run_claims_gate(con)
        if not gate.success:
            raise CycleBuildError(gate.summary())
        emitted = emit_claim_files(
            con,
            gate.claims,
            gate.lines,
            area.outbox / "837",
            submitter_from_env(),
            datetime.combine(as_of, time(9, 0)),
        )
        fee_schedules = {
            str(payer): Decimal(percent)
            for payer, percent in con.execute(
                "select payer_id, allowed_percent_of_charge from marts.dim_payers"
            ).fetchall()
        }
    if emitted.claim_count == 0:
        raise CycleBuildError("no claim was written to an 837 file")
    answered = answer_outbox(area.outbox, area.inbox, fee_schedules, seed=SIM_SEED, today=as_of)
    if not answered.files_835:
        raise CycleBuildError("the simulated payers wrote no 835")
    loaded = load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine)
    if not {i.outcome.status for i in loaded} <= {LoadStatus.LOADED, LoadStatus.SKIPPED}:
        raise CycleBuildError("an inbox file was quarantined")
    rebuilt = dbt_build(area, as_of, select=["source:x12+", "source:ops+"])
    if rebuilt.returncode != 0:
        raise CycleBuildError(rebuilt.stdout[-6000:])


def copy_area(area: WorkArea, root: Path) -> WorkArea:
    """A private copy of a work area (warehouse, outbox, archive ...) to change freely."""
    shutil.copytree(area.root, root, ignore=shutil.ignore_patterns("dbt"))
    return WorkArea(root)


def assert_every_dollar_is_accounted_for(warehouse: Path) -> None:
    """charge = paid + adjustments + patient responsibility + open, per claim and in total;
    BPR02 = posted claim payments - PLB, per 835 transaction; remittances were posted."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        off = con.execute(
            """
            select count(*) from marts.fct_claim_balances
            where charge_amount <> paid_amount + contractual_adjustment_amount
                + other_adjustment_amount + patient_responsibility_amount + open_balance_amount
            """
        ).fetchall()
        totals = con.execute(
            """
            select sum(charge_amount), sum(paid_amount), count(*) filter (where paid_amount > 0)
            from marts.fct_claim_balances
            """
        ).fetchall()
        # Held claims are not billed yet: they carry no ledger entries until they are sent.
        claims_billed = con.execute(
            """
            select
                sum(claims.total_charge_amount),
                sum(claims.total_charge_amount) filter (where scrub.scrub_status = 'held')
            from marts.fct_claims as claims
            inner join marts.fct_claim_scrub_status as scrub using (claim_id)
            """
        ).fetchall()
        transactions = con.execute(
            """
            with posted as (
                select payment_id, sum(paid_amount) as paid
                from raw.x12_remit_claims group by payment_id
            ),

            plb as (
                select payment_id, sum(amount) as plb
                from raw.x12_remit_provider_adjustments group by payment_id
            )

            select
                count(*),
                count(*) filter (
                    where payments.payment_amount
                        <> coalesce(posted.paid, 0) - coalesce(plb.plb, 0)
                )
            from raw.x12_remit_payments as payments
            left join posted using (payment_id)
            left join plb using (payment_id)
            """
        ).fetchall()
    assert off == [(0,)]
    charge, paid, paid_claims = totals[0]
    billed, held = claims_billed[0]
    assert charge + held == billed
    assert paid > 0 and paid_claims > 0
    count, unbalanced = transactions[0]
    assert count > 0 and unbalanced == 0


def table_rows(
    warehouse: Path, tables: Iterable[str], schema: str | None = "marts"
) -> dict[str, Counter[tuple[Any, ...]]]:
    """Each table's rows as a multiset (row order is not part of a table), keyed by the name
    given: for comparing a warehouse before and after a rebuild or a re-run. With ``schema``
    None the names are qualified (``raw.x12_remit_claims``)."""
    prefix = f"{schema}." if schema else ""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: Counter(con.execute(f"select * from {prefix}{t}").fetchall()) for t in tables}

"""Building the dbt project against the warehouse, and reading back what it built."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from revcycle.paths import WorkArea, dbt_project_dir


def dbt_environment(area: WorkArea) -> dict[str, str]:
    """Environment dbt needs: an absolute warehouse path (dbt resolves relative DuckDB paths
    against the working directory, not the project) and logs/artifacts kept in the work area."""
    return {
        "REVCYCLE_WAREHOUSE": str(area.warehouse.resolve()),
        "DBT_TARGET_PATH": str((area.root / "dbt" / "target").resolve()),
        "DBT_LOG_PATH": str((area.root / "dbt" / "logs").resolve()),
        "DBT_PROFILES_DIR": str(dbt_project_dir()),
        "DBT_PROJECT_DIR": str(dbt_project_dir()),
        "DO_NOT_TRACK": "1",
    }


@contextmanager
def dbt_env(area: WorkArea) -> Iterator[None]:
    """Set the dbt environment for the duration of a build, then restore the old values."""
    values = dbt_environment(area)
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    area.warehouse_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a build.

    dbt-duckdb caches one database instance per process (``DuckDBConnectionManager._ENV``) and
    never closes it, so a later read-only connection from our own code fails with "different
    configuration than existing connections", and another process could not write. There is no
    public API for this; ``close_all_connections`` only drops the reference.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not loaded in this process: nothing is open
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None


class DbtBuildError(RuntimeError):
    """dbt reported failed models or tests."""


def dbt_vars(as_of: date) -> list[str]:
    """The run's as-of date for the scrubber (future dates of service, timely filing): passed
    explicitly so that no model reads the clock."""
    return ["--vars", json.dumps({"scrub_as_of_date": as_of.isoformat()})]


def dbt_build_plain(area: WorkArea, as_of: date, extra_args: list[str] | None = None) -> None:
    """Run ``dbt build`` in-process without Prefect (the CLI's ``revcycle build``)."""
    from dbt.cli.main import dbtRunner

    with dbt_env(area):
        try:
            result = dbtRunner().invoke(
                [
                    "build",
                    "--project-dir",
                    str(dbt_project_dir()),
                    "--profiles-dir",
                    str(dbt_project_dir()),
                    *dbt_vars(as_of),
                    *(extra_args or []),
                ]
            )
        finally:
            release_dbt_duckdb()
    if not result.success:
        raise DbtBuildError(f"dbt build failed: {result.exception or 'see the log above'}")


@dataclass(frozen=True)
class MartCounts:
    patients: int
    payers: int
    providers: int
    charges: int
    claims: int
    claim_lines: int
    billed_amount: Decimal
    self_pay_claims: int


def read_mart_counts(warehouse: Path) -> MartCounts:
    """Row counts and billed dollars of the billing marts (read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def count(relation: str) -> int:
            row = con.execute(f"select count(*) from {relation}").fetchone()
            return int(row[0]) if row else 0

        billed = con.execute(
            "select coalesce(sum(total_charge_amount), 0)::decimal(18,2) from marts.fct_claims"
        ).fetchone()
        self_pay = con.execute("select count(*) from marts.fct_claims where is_self_pay").fetchone()
        return MartCounts(
            patients=count("marts.dim_patients"),
            payers=count("marts.dim_payers"),
            providers=count("marts.dim_providers"),
            charges=count("marts.fct_charges"),
            claims=count("marts.fct_claims"),
            claim_lines=count("marts.fct_claim_lines"),
            billed_amount=Decimal(billed[0]) if billed else Decimal("0.00"),
            self_pay_claims=int(self_pay[0]) if self_pay else 0,
        )


@dataclass(frozen=True)
class BillingBucket:
    claims: int
    amount: Decimal


BILLING_STATUSES = ("submitted", "held", "self_pay", "ready")


def read_billing_status(warehouse: Path) -> dict[str, BillingBucket]:
    """Where every built claim stands: submitted (in an 837 already), held by the scrubber,
    self-pay (to patient statements), or ready and not yet sent. The four add up to every claim
    in ``marts.fct_claims``, by count and by dollars."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            with submitted as (
                select distinct claim_id from ops.submissions
            ),

            status as (
                select
                    claims.claim_id,
                    claims.total_charge_amount,
                    case
                        when submitted.claim_id is not null then 'submitted'
                        else scrub.scrub_status
                    end as billing_status
                from marts.fct_claims as claims
                left join marts.fct_claim_scrub_status as scrub
                    on claims.claim_id = scrub.claim_id
                left join submitted
                    on claims.claim_id = submitted.claim_id
            )

            select billing_status, count(*), sum(total_charge_amount)::decimal(18,2)
            from status
            group by billing_status
            """
        ).fetchall()
    buckets = {name: BillingBucket(0, Decimal("0.00")) for name in BILLING_STATUSES}
    for status, count, amount in rows:
        buckets[str(status)] = BillingBucket(int(count), Decimal(amount or 0))
    return buckets


@dataclass(frozen=True)
class ArTotals:
    """Where every billed dollar stands after reconciliation (marts.fct_claim_balances)."""

    charge: Decimal
    paid: Decimal
    contractual_adjustment: Decimal
    other_adjustment: Decimal
    patient_responsibility: Decimal
    open_balance: Decimal
    claims_by_status: dict[str, int]
    work_queue_items: int
    # fct_secondary_claims: status -> (claims, the primary's patient share on them)
    secondary_by_status: dict[str, tuple[int, Decimal]] = field(default_factory=dict)

    @property
    def accounted(self) -> Decimal:
        return (
            self.paid
            + self.contractual_adjustment
            + self.other_adjustment
            + self.patient_responsibility
            + self.open_balance
        )


def read_ar_totals(warehouse: Path) -> ArTotals:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sums = con.execute(
            """
            select
                coalesce(sum(charge_amount), 0),
                coalesce(sum(paid_amount), 0),
                coalesce(sum(contractual_adjustment_amount), 0),
                coalesce(sum(other_adjustment_amount), 0),
                coalesce(sum(patient_responsibility_amount), 0),
                coalesce(sum(open_balance_amount), 0)
            from marts.fct_claim_balances
            """
        ).fetchall()[0]
        statuses = con.execute(
            "select claim_status, count(*) from marts.fct_claim_balances group by all order by 1"
        ).fetchall()
        queue = con.execute("select count(*) from marts.fct_remit_work_queue").fetchall()[0]
        secondary = con.execute(
            "select secondary_status, count(*), coalesce(sum(primary_patient_share_amount), 0) "
            "from marts.fct_secondary_claims group by all order by 1"
        ).fetchall()
    amounts = [Decimal(v) for v in sums]
    return ArTotals(
        charge=amounts[0],
        paid=amounts[1],
        contractual_adjustment=amounts[2],
        other_adjustment=amounts[3],
        patient_responsibility=amounts[4],
        open_balance=amounts[5],
        claims_by_status={str(s): int(n) for s, n in statuses},
        work_queue_items=int(queue[0]),
        secondary_by_status={str(s): (int(n), Decimal(a)) for s, n, a in secondary},
    )

"""A real warehouse for the dashboard tests, built as tests/dbt/test_kpi_marts.py builds its
``cycle`` fixture: a generated extract through the loader, ``dbt build``, the claims gate, the
837 writer, the simulated clearinghouse and payers, the inbox loader and a second ``dbt build``
of what depends on the X12 and ops sources, all without Prefect and dated ``AS_OF``.

Copied (not imported) from that module so the two can change independently; the figures the
dashboard tests check are computed from the marts by the tests themselves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.paths import WorkArea, dbt_project_dir


class CycleBuildError(AssertionError):
    """A step of the cycle did not do what it should."""


def dbt_build(
    warehouse: Path, work: Path, as_of: date, select: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dbt build`` in a subprocess with the run's as-of date as scrub_as_of_date (as
    revcycle.marts.dbt_vars passes it), artifacts and logs under ``work``."""
    project = dbt_project_dir()
    env = {
        **os.environ,
        "REVCYCLE_WAREHOUSE": str(warehouse),
        "DBT_TARGET_PATH": str(work / "dbt" / "target"),
        "DBT_LOG_PATH": str(work / "dbt" / "logs"),
        "DO_NOT_TRACK": "1",
    }
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--vars",
            json.dumps({"scrub_as_of_date": as_of.isoformat()}),
            *(["--select", *select] if select else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def build_cycle_area(extract: Path, root: Path, as_of: date) -> WorkArea:
    """Copy ``extract`` into a new work area under ``root`` and run one whole cycle on it;
    returns the work area (its warehouse is ``area.warehouse``)."""
    from revcycle.claims.emit import emit_claim_files
    from revcycle.config import submitter_from_env
    from revcycle.gates.claims_gate import run_claims_gate
    from revcycle.inbox import load_inbox
    from revcycle.sim import answer_outbox

    area = WorkArea(root)
    shutil.copytree(extract, area.extracts)
    warehouse = area.warehouse
    outcomes = load_extract_dir(area.extracts, warehouse, area.quarantine)
    if {o.status for o in outcomes} != {LoadStatus.LOADED}:
        raise CycleBuildError(f"extract not loaded: {[o.reason for o in outcomes if o.reason]}")
    built = dbt_build(warehouse, root, as_of)
    if built.returncode != 0:
        raise CycleBuildError(built.stdout[-6000:])

    with duckdb.connect(str(warehouse)) as con:
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
    answer_outbox(area.outbox, area.inbox, fee_schedules, seed=11, today=as_of)
    loaded = load_inbox(area.inbox, warehouse, area.archive, area.quarantine)
    if not {i.outcome.status for i in loaded} <= {LoadStatus.LOADED, LoadStatus.SKIPPED}:
        raise CycleBuildError("an inbox file was quarantined")
    rebuilt = dbt_build(warehouse, root, as_of, select=["source:x12+", "source:ops+"])
    if rebuilt.returncode != 0:
        raise CycleBuildError(rebuilt.stdout[-6000:])
    return area


def dollars(amount: Decimal) -> str:
    """Money as the dashboard must show it, written independently of revcycle.dashboard."""
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


@dataclass(frozen=True)
class Expected:
    """Figures each page must show, computed here straight from the marts."""

    insurance_ar: Decimal
    patient_ar: Decimal
    open_claims: int
    clean_ready: int
    clean_insured: int
    denials: int
    denied_amount: Decimal
    top_carc: str
    top_carc_amount: Decimal
    held_claims: int
    held_amount: Decimal
    work_items: int
    work_amount: Decimal
    lookup_claim_id: str
    lookup_status: str
    lookup_charge: Decimal
    lookup_open: Decimal
    lookup_history_rows: int
    lookup_ledger_rows: int
    held_claim_id: str
    gate_runs: int
    files_837: int
    claims_sent: int
    payer_id: str
    payer_insurance_ar: Decimal
    phi: tuple[str, ...]  # member ids, MRNs and patient names that must never be shown

    @property
    def clean_claim_rate(self) -> str:
        return f"{Decimal(100 * self.clean_ready) / self.clean_insured:.2f} %"


def expected_figures(warehouse: Path) -> Expected:
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def one(sql: str) -> tuple[Any, ...]:
            row = con.execute(sql).fetchone()
            assert row is not None
            return tuple(row)

        insurance, patient, open_claims = one(
            """
            select sum(open_balance_amount), sum(patient_responsibility_amount),
                   count(*) filter (where open_balance_amount <> 0
                                    or patient_responsibility_amount <> 0)
            from marts.fct_claim_balances
            """
        )
        # Clean claim rate to date (_kpi__docs.md): insured claims served up to the as-of
        # date (claims served later are in no window) that the scrubber let through.
        ready, insured = one(
            """
            select count(*) filter (where scrub.scrub_status = 'ready'), count(*)
            from marts.fct_claim_scrub_status as scrub
            join marts.fct_claims as claims using (claim_id)
            where not claims.is_self_pay and claims.service_date <= scrub.scrub_as_of_date
            """
        )
        denials, denied = one(
            "select sum(denial_count), sum(denied_amount) from marts.fct_denial_breakdowns "
            "where breakdown = 'carc'"
        )
        top_carc, top_amount = one(
            "select breakdown_key, sum(denied_amount) from marts.fct_denial_breakdowns "
            "where breakdown = 'carc' group by 1 order by 2 desc, 1 limit 1"
        )
        held, held_amount = one(
            "select count(*), sum(total_charge_amount) from marts.fct_claim_scrub_status "
            "where scrub_status = 'held'"
        )
        (held_claim,) = one(
            "select min(claim_id) from marts.fct_claim_scrub_status where scrub_status = 'held'"
        )
        items, item_amount = one(
            "select count(*), coalesce(sum(amount), 0) from marts.fct_remit_work_queue"
        )
        # The claim with the longest status history (ties: the smallest id).
        claim_id, history_rows = one(
            "select claim_id, count(*) from marts.fct_claim_status_history "
            "group by 1 order by 2 desc, 1 limit 1"
        )
        status, charge, open_balance = one(
            "select claim_status, charge_amount, open_balance_amount "
            f"from marts.fct_claim_balances where claim_id = '{claim_id}'"
        )
        (ledger_rows,) = one(
            f"select count(*) from marts.fct_ar_ledger where claim_id = '{claim_id}'"
        )
        (gate_runs,) = one("select count(*) from ops.gate_runs")
        files, sent = one(
            "select count(distinct file_name), count(*) filter (where claim_line_id is null) "
            "from ops.submissions"
        )
        payer_id, payer_ar = one(
            """
            select claims.payer_id, sum(balances.open_balance_amount)
            from marts.fct_claim_balances as balances
            join marts.fct_claims as claims using (claim_id)
            group by 1 having sum(balances.open_balance_amount) > 0
            order by 2 desc, 1 limit 1
            """
        )
        phi = [
            str(v)
            for (v,) in con.execute(
                """
                select member_id from marts.dim_coverages where length(member_id) >= 6
                union select mrn from marts.dim_patients where length(mrn) >= 6
                union select first_name || ' ' || last_name from marts.dim_patients
                union select last_name || ', ' || first_name from marts.dim_patients
                """
            ).fetchall()
            if v
        ]
    return Expected(
        insurance_ar=insurance,
        patient_ar=patient,
        open_claims=int(open_claims),
        clean_ready=int(ready),
        clean_insured=int(insured),
        denials=int(denials),
        denied_amount=denied,
        top_carc=str(top_carc),
        top_carc_amount=top_amount,
        held_claims=int(held),
        held_amount=held_amount,
        work_items=int(items),
        work_amount=item_amount,
        lookup_claim_id=str(claim_id),
        lookup_status=str(status),
        lookup_charge=charge,
        lookup_open=open_balance,
        lookup_history_rows=int(history_rows),
        lookup_ledger_rows=int(ledger_rows),
        held_claim_id=str(held_claim),
        gate_runs=int(gate_runs),
        files_837=int(files),
        claims_sent=int(sent),
        payer_id=str(payer_id),
        payer_insurance_ar=payer_ar,
        phi=tuple(phi),
    )

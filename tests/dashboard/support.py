"""What the dashboard must show, computed from the marts by the tests themselves (never with
revcycle.dashboard), on the session's small reconciled cycle (tests/cycle_support.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb


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

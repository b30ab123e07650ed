"""Recompute the key KPI figures straight from the ledger and check the KPI marts against them.

:func:`assert_kpis_match_ledger` opens a warehouse read-only, reads the rows of
``marts.fct_ar_ledger``, ``marts.fct_claims`` and ``marts.fct_claim_scrub_status`` and recomputes,
in Python with ``Decimal`` and without any of the SQL of ``dbt_project/models/marts/kpi``, what the
definitions of ``models/marts/kpi/_kpi__docs.md`` say, then asserts the marts hold the same
figures:

- for every ``month`` and ``to_date`` window of ``marts.fct_kpis`` (and the windows themselves):
  clean claim rate, first-pass resolution rate, initial denial rate by count and by dollars,
  gross and net collection rate, days to submission and to payment (numerators and
  denominators);
- as of the as-of date: aged A/R over 90 and over 120 days and net days in A/R;
- insurance A/R and patient A/R: ``fct_ar_aging`` = ``fct_claim_balances`` = the ledger;
- every ``value`` of ``fct_kpis`` = numerator / denominator rounded half-up to 4 decimals.

Used by ``tests/dbt/test_kpi_marts.py`` and by the end-to-end flow test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

ZERO = Decimal("0.00")
FOUR_PLACES = Decimal("0.0001")

# KPIs counted over the claims served in a window (cohort by date of service).
COHORT_KPIS = (
    "clean_claim_rate",
    "first_pass_resolution_rate",
    "initial_denial_rate_count",
    "initial_denial_rate_amount",
    "gross_collection_rate",
    "net_collection_rate",
    "days_to_submission",
    "days_to_payment",
)


@dataclass
class ClaimFigures:
    """One claim as the ledger tells it (definitions: _kpi__docs.md)."""

    claim_id: str
    payer_id: str | None
    is_self_pay: bool
    service_date: date
    scrub_status: str | None
    charge: Decimal = ZERO
    payments: Decimal = ZERO
    contractual: Decimal = ZERO  # contractual adjustments that are not denials
    insurance_balance: Decimal = ZERO
    patient_balance: Decimal = ZERO
    billed_date: date | None = None  # first charge posted
    first_payment_date: date | None = None
    # (event_date, amount, is_denial) of the claim's payer's remittance entries
    remittances: list[tuple[date, Decimal, bool]] = field(default_factory=list)

    @property
    def first_adjudication_date(self) -> date | None:
        return min((d for d, _, _ in self.remittances), default=None)

    @property
    def is_adjudicated(self) -> bool:
        return not self.is_self_pay and self.first_adjudication_date is not None

    @property
    def initial_denial_amount(self) -> Decimal:
        first = self.first_adjudication_date
        return -sum(
            (amount for day, amount, denial in self.remittances if day == first and denial), ZERO
        )

    @property
    def is_first_pass_resolved(self) -> bool:
        first = self.first_adjudication_date
        settled = -_sum(amount for day, amount, _ in self.remittances if day == first)
        return (
            self.is_adjudicated
            and self.initial_denial_amount <= 0
            and self.charge != 0
            and settled == self.charge
        )

    @property
    def has_balance(self) -> bool:
        return self.insurance_balance != 0 or self.patient_balance != 0


def read_claims(con: duckdb.DuckDBPyConnection) -> dict[str, ClaimFigures]:
    """Every claim of fct_claims with its ledger entries rolled up in Python."""
    claims = {
        claim_id: ClaimFigures(claim_id, payer_id, bool(self_pay), service_date, scrub_status)
        for claim_id, payer_id, self_pay, service_date, scrub_status in con.execute(
            """
            select claims.claim_id, claims.payer_id, claims.is_self_pay, claims.service_date,
                   scrub.scrub_status
            from marts.fct_claims as claims
            left join marts.fct_claim_scrub_status as scrub on claims.claim_id = scrub.claim_id
            """
        ).fetchall()
    }
    entries = con.execute(
        """
        select claim_id, payer_id, balance_component, amount, is_denial, event_date, payment_id
        from marts.fct_ar_ledger
        where claim_id is not null
        """
    ).fetchall()
    for claim_id, payer_id, component, amount, is_denial, event_date, payment_id in entries:
        claim = claims[claim_id]
        if component == "charge":
            claim.charge += amount
            claim.billed_date = _earliest(claim.billed_date, event_date)
        if component == "payment":
            claim.payments -= amount
            if amount < 0:
                claim.first_payment_date = _earliest(claim.first_payment_date, event_date)
        if component == "contractual_adjustment" and not is_denial:
            claim.contractual -= amount
        if component != "none":
            claim.insurance_balance += amount
        if component == "patient_responsibility":
            claim.patient_balance -= amount
        if (
            payment_id is not None
            and payer_id is not None
            and payer_id == claim.payer_id
            and component not in ("none", "charge")
        ):
            claim.remittances.append((event_date, amount, bool(is_denial)))
    return claims


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def _earliest(current: date | None, candidate: date | None) -> date | None:
    return min((d for d in (current, candidate) if d is not None), default=None)


def cohort_figures(claims: Iterable[ClaimFigures]) -> dict[str, tuple[Decimal, Decimal]]:
    """Numerator and denominator of each cohort KPI over the given claims."""
    insured = [c for c in claims if not c.is_self_pay]
    adjudicated = [c for c in insured if c.is_adjudicated]
    charges = _sum(c.charge for c in insured)
    payments = _sum(c.payments for c in insured)
    submission_days = [
        (c.billed_date - c.service_date).days for c in insured if c.billed_date is not None
    ]
    payment_days = [
        (c.first_payment_date - c.service_date).days
        for c in insured
        if c.first_payment_date is not None
    ]
    return {
        "clean_claim_rate": (
            Decimal(sum(c.scrub_status == "ready" for c in insured)),
            Decimal(len(insured)),
        ),
        "initial_denial_rate_count": (
            Decimal(sum(c.initial_denial_amount > 0 for c in adjudicated)),
            Decimal(len(adjudicated)),
        ),
        "initial_denial_rate_amount": (
            _sum(c.initial_denial_amount for c in adjudicated),
            _sum(c.charge for c in adjudicated),
        ),
        "first_pass_resolution_rate": (
            Decimal(sum(c.is_first_pass_resolved for c in adjudicated)),
            Decimal(len(adjudicated)),
        ),
        "gross_collection_rate": (payments, charges),
        "net_collection_rate": (payments, charges - _sum(c.contractual for c in insured)),
        "days_to_submission": (Decimal(sum(submission_days)), Decimal(len(submission_days))),
        "days_to_payment": (Decimal(sum(payment_days)), Decimal(len(payment_days))),
    }


def _months(first: date, last: date) -> list[tuple[date, date]]:
    """Calendar months from the month of ``first`` to the month of ``last``, the last one
    ending on ``last``."""
    out: list[tuple[date, date]] = []
    start = first.replace(day=1)
    while start <= last:
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        out.append((start, min(following - timedelta(days=1), last)))
        start = following
    return out


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def _kpi_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute("select * from marts.fct_kpis order by kpi_window_id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _check_values(rows: list[dict[str, Any]]) -> None:
    """value = numerator / denominator (net days in A/R: x window days), 4 decimals half-up."""
    for row in rows:
        numerator = row["numerator"]
        if row["kpi_id"] == "net_days_in_ar":
            numerator *= row["window_days"]
        expected = _ratio(numerator, row["denominator"])
        assert row["value"] == expected, (row["kpi_window_id"], row["value"], expected)


def _check_cohorts(
    rows: list[dict[str, Any]], claims: dict[str, ClaimFigures], as_of: date
) -> None:
    served = [c for c in claims.values() if c.service_date <= as_of]
    if not served:
        assert not [r for r in rows if r["window_type"] in ("month", "to_date")], rows
        return
    first = min(c.service_date for c in served)
    windows = {("to_date", first, as_of)} | {("month", s, e) for s, e in _months(first, as_of)}
    for kpi_id in COHORT_KPIS:
        found = {
            (r["window_type"], r["window_start_date"], r["window_end_date"])
            for r in rows
            if r["kpi_id"] == kpi_id and r["window_type"] in ("month", "to_date")
        }
        assert found == windows, (kpi_id, sorted(found ^ windows))
    by_window: dict[tuple[date, date], dict[str, tuple[Decimal, Decimal]]] = {}
    for row in rows:
        if row["kpi_id"] not in COHORT_KPIS or row["window_type"] not in ("month", "to_date"):
            continue
        key = (row["window_start_date"], row["window_end_date"])
        if key not in by_window:
            by_window[key] = cohort_figures(c for c in served if key[0] <= c.service_date <= key[1])
        expected = by_window[key][row["kpi_id"]]
        assert (row["numerator"], row["denominator"]) == expected, (row["kpi_window_id"], expected)


def _check_as_of(rows: list[dict[str, Any]], claims: dict[str, ClaimFigures], as_of: date) -> None:
    with_balance = [c for c in claims.values() if c.has_balance]
    net_ar = _sum(c.insurance_balance + c.patient_balance for c in with_balance)
    expected = {
        "aged_ar_over_90_days_share": _sum(
            c.insurance_balance + c.patient_balance
            for c in with_balance
            if (as_of - c.service_date).days > 90
        ),
        "aged_ar_over_120_days_share": _sum(
            c.insurance_balance + c.patient_balance
            for c in with_balance
            if (as_of - c.service_date).days > 120
        ),
    }
    for kpi_id, numerator in expected.items():
        [row] = [r for r in rows if r["kpi_id"] == kpi_id]
        assert row["window_type"] == "as_of", row
        assert row["window_start_date"] == row["window_end_date"] == as_of, row
        assert (row["numerator"], row["denominator"]) == (numerator, net_ar), (kpi_id, numerator)
    [days] = [r for r in rows if r["kpi_id"] == "net_days_in_ar"]
    start = as_of - timedelta(days=89)
    revenue = _sum(
        c.charge - c.contractual for c in claims.values() if start <= c.service_date <= as_of
    )
    assert (days["window_start_date"], days["window_end_date"], days["window_days"]) == (
        start,
        as_of,
        90,
    ), days
    assert (days["numerator"], days["denominator"]) == (net_ar, revenue), (net_ar, revenue)


def _check_ar_totals(con: duckdb.DuckDBPyConnection, claims: dict[str, ClaimFigures]) -> None:
    [(aging_count, aging_insurance, aging_patient)] = con.execute(
        """
        select count(*), coalesce(sum(insurance_balance_amount), 0),
               coalesce(sum(patient_balance_amount), 0)
        from marts.fct_ar_aging
        """
    ).fetchall()
    [(balances_insurance, balances_patient)] = con.execute(
        """
        select coalesce(sum(open_balance_amount), 0),
               coalesce(sum(patient_responsibility_amount), 0)
        from marts.fct_claim_balances
        """
    ).fetchall()
    with_balance = [c for c in claims.values() if c.has_balance]
    ledger_insurance = _sum(c.insurance_balance for c in with_balance)
    ledger_patient = _sum(c.patient_balance for c in with_balance)
    assert aging_count == len(with_balance), (aging_count, len(with_balance))
    assert aging_insurance == balances_insurance == ledger_insurance, (
        aging_insurance,
        balances_insurance,
        ledger_insurance,
    )
    assert aging_patient == balances_patient == ledger_patient, (
        aging_patient,
        balances_patient,
        ledger_patient,
    )


def assert_kpis_match_ledger(warehouse: Path) -> None:
    """Recompute the key KPI figures from the ledger and assert the KPI marts agree."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        claims = read_claims(con)
        rows = _kpi_rows(con)
        [(as_of,)] = con.execute("select distinct as_of_date from marts.fct_kpis").fetchall()
        aging = con.execute("select distinct as_of_date from marts.fct_ar_aging").fetchall()
        aging_as_of = {d for (d,) in aging}
        assert aging_as_of <= {as_of}, (aging_as_of, as_of)  # one run, one as-of date
        _check_values(rows)
        _check_cohorts(rows, claims, as_of)
        _check_as_of(rows, claims, as_of)
        _check_ar_totals(con, claims)

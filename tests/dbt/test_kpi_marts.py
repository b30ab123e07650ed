"""The AR-aging and KPI marts (dbt_project/models/marts/kpi) on two real warehouses.

1. The hand-made reconciliation warehouse of tests/reconcile (its EMR fixture, submissions,
   acknowledgements and three 835s, built by that module's own helpers), built with
   ``dbt build`` as of 2026-06-05: every aging row, KPI, underpayment, denial and daily balance
   is checked against figures computed by hand from the table in
   tests/reconcile/fixtures/PROVENANCE.md (the arithmetic is in the comments).
2. The generated extract of conftest ``small_extract`` through the real cycle without Prefect:
   loader, ``dbt build``, claims gate, 837 writer, simulated clearinghouse and payers, inbox
   loader, ``dbt build`` of what depends on the X12 and ops sources (as the flow does).

On both, :func:`tests.kpi_support.assert_kpis_match_ledger` recomputes the KPIs from the
ledger in Python and compares. Every ``dbt build`` also runs the marts' data and unit tests.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.paths import WorkArea, dbt_project_dir
from tests.conftest import AS_OF
from tests.cycle_support import copy_area, dbt_build, run_dbt, table_rows
from tests.kpi_support import assert_kpis_match_ledger
from tests.reconcile.test_reconcile_fixture import (
    C1,
    C2,
    C4,
    C6,
    C8,
    C10,
    C11,
    FIXTURE,
    LINEAGE,
    MEDICARE,
    RAW_COLUMNS,
    ParsedFile,
    acknowledgements,
    acme_payment_a,
    acme_payment_b,
    insert,
    load_parsed,
    medicare_payment_c,
    submissions,
)

PROJECT_DIR = dbt_project_dir()
D = Decimal
FIXTURE_AS_OF = date(2026, 6, 5)
KPI_MARTS = (
    "fct_ar_aging",
    "fct_ar_daily",
    "fct_ar_daily_by_payer",
    "fct_claim_kpi_facts",
    "fct_kpis",
    "fct_denial_breakdowns",
    "fct_underpayments",
)


def _query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reconciliation fixture of tests/reconcile, built as of 2026-06-05."""
    work = tmp_path_factory.mktemp("kpi_reconciled")
    extract = work / "extract"
    shutil.copytree(FIXTURE, extract)
    warehouse = work / "warehouse.duckdb"
    outcomes = load_extract_dir(extract, warehouse, work / "quarantine")
    assert [o.status for o in outcomes] == [LoadStatus.LOADED] * len(outcomes)
    with duckdb.connect(str(warehouse)) as con:
        for table, columns in RAW_COLUMNS.items():
            con.execute(f"create table if not exists raw.{table} ({columns}, {LINEAGE})")
        insert(con, "ops.submissions", submissions())
    file_a = ParsedFile("acme_835_20260410.x12", datetime(2026, 4, 10, 12, 0))
    acme_payment_a(file_a, isa13="000000501")
    file_b = ParsedFile("acme_835_20260515.x12", datetime(2026, 5, 15, 12, 0))
    acme_payment_b(file_b)
    file_c = ParsedFile("mcr_835_20260420.x12", datetime(2026, 4, 20, 12, 0))
    medicare_payment_c(file_c)
    load_parsed(warehouse, file_a, file_b, file_c, *acknowledgements())
    result = run_dbt(warehouse, work, FIXTURE_AS_OF)
    assert result.returncode == 0, result.stdout[-6000:]
    return warehouse


@pytest.fixture(scope="module")
def cycle(small_cycle_area: WorkArea, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """conftest's small_extract through the real cycle (no Prefect), all dated AS_OF, copied
    so the KPI marts can be rebuilt here."""
    area = copy_area(small_cycle_area, tmp_path_factory.mktemp("kpi_cycle") / "data")
    before = table_rows(area.warehouse, KPI_MARTS)
    again = dbt_build(area, AS_OF, select=["path:models/marts/kpi"])
    assert again.returncode == 0, again.stdout[-6000:]
    return {
        "warehouse": area.warehouse,
        "before": before,
        "after": table_rows(area.warehouse, KPI_MARTS),
    }


# --- 1. the hand-made reconciliation warehouse, as of 2026-06-05 -----------------------------


def test_fixture_kpis_match_the_ledger(reconciled: Path) -> None:
    assert_kpis_match_ledger(reconciled)


def test_fixture_aging_by_hand(reconciled: Path) -> None:
    rows = _query(
        reconciled,
        """
        select claim_id, days_since_service, service_age_bucket, days_since_billed,
               billed_age_bucket, insurance_balance_amount, patient_balance_amount
        from marts.fct_ar_aging
        """,
    )
    z = D("0.00")
    # Served 2-11 March, submitted 15 March (82 days before 5 June); the self-pay E8 was
    # charged on its service day. E6 is served exactly 90 days before: 61-90, not over 90.
    assert {r[0]: r[1:] for r in rows} == {
        C1: (95, "91-120", 82, "61-90", z, D("20.00")),
        C2: (94, "91-120", 82, "61-90", z, D("100.00")),
        C4: (92, "91-120", 82, "61-90", z, D("15.00")),
        C6: (90, "61-90", 82, "61-90", D("80.00"), z),
        C8: (89, "61-90", 89, "61-90", z, D("80.00")),
        C10: (87, "61-90", 82, "61-90", D("100.00"), z),
        C11: (86, "61-90", 82, "61-90", D("100.00"), z),
    }
    assert {d for (d,) in _query(reconciled, "select as_of_date from marts.fct_ar_aging")} == {
        FIXTURE_AS_OF
    }


def test_fixture_kpis_by_hand(reconciled: Path) -> None:
    rows = _query(
        reconciled,
        """
        select kpi_id, window_type, window_start_date, window_end_date, numerator, denominator,
               value
        from marts.fct_kpis
        where window_type != 'month'
        """,
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    first, as_of = date(2026, 3, 2), FIXTURE_AS_OF
    to_date = {
        # 10 insured claims, all ready (E7 is ready but was never sent).
        "clean_claim_rate": (D(10), D(10), D("1.0000")),
        # Adjudicated by their payer: E1 E2 E3 E4 E5 E6 E9; E3 denied (CO-50), the others
        # settled by their first 835 (E4 before its reversal, E5 in two CLPs the same day).
        "first_pass_resolution_rate": (D(6), D(7), D("0.8571")),
        "initial_denial_rate_count": (D(1), D(7), D("0.1429")),
        # 200 denied / 120+150+200+110+150+100+100 charged.
        "initial_denial_rate_amount": (D(200), D(930), D("0.2151")),
        # Paid 75+70+110+0+90 (E6 taken back) of 1130 charged (E7 never sent: 0).
        "gross_collection_rate": (D(345), D(1130), D("0.3053")),
        # Contractual 25+50+25+40+20+10 (E3's CO-50 is a denial, not contractual).
        "net_collection_rate": (D(345), D(960), D("0.3594")),
        # Submitted 15 March: 13+12+11+10+9+8+6+5+4 days over 9 claims.
        "days_to_submission": (D(78), D(9), D("8.6667")),
        # First payment: E1 39, E4 36, E5 45, E6 34, E9 32 days.
        "days_to_payment": (D(186), D(5), D("37.2000")),
    }
    for kpi_id, figures in to_date.items():
        assert got[(kpi_id, "to_date")] == (first, as_of, *figures), kpi_id
    # A/R 20+100+15+80+80+100+100 = 495; over 90 days: E1 20 + E2 100 + E4 15.
    assert got[("aged_ar_over_90_days_share", "as_of")] == (
        as_of,
        as_of,
        D(135),
        D(495),
        D("0.2727"),
    )
    assert got[("aged_ar_over_120_days_share", "as_of")] == (as_of, as_of, D(0), D(495), D(0))
    # Served 8 March - 5 June: E7 0, E8 80, E9 100-10, E10 100, E11 100 = 370;
    # 495 x 90 / 370 = 120.4054 days.
    assert got[("net_days_in_ar", "trailing_90_days")] == (
        date(2026, 3, 8),
        as_of,
        D(495),
        D(370),
        D("120.4054"),
    )
    months = _query(
        reconciled,
        """
        select window_start_date, window_end_date, numerator, denominator, value
        from marts.fct_kpis where kpi_id = 'gross_collection_rate' and window_type = 'month'
        order by window_start_date
        """,
    )
    assert months == [
        (date(2026, 3, 1), date(2026, 3, 31), D(345), D(1130), D("0.3053")),
        (date(2026, 4, 1), date(2026, 4, 30), D(0), D(0), None),
        (date(2026, 5, 1), date(2026, 5, 31), D(0), D(0), None),
        (date(2026, 6, 1), as_of, D(0), D(0), None),
    ]


def test_fixture_underpayments_by_hand(reconciled: Path) -> None:
    rows = _query(
        reconciled,
        """
        select claim_line_id, expected_allowed_amount, paid_amount,
               patient_responsibility_amount, underpayment_amount
        from marts.fct_underpayments
        """,
    )
    # E4 line 2 (81002, 10.00 at Acme's 62.50 %): 6.25 expected, 5.00 paid (after the reversal
    # and correction). Every other line the payers processed was allowed at least its fee
    # schedule less 1.00; E3's line was denied and E6 was paid at claim level only.
    assert rows == [(f"{C4}-002", D("6.25"), D("5.00"), D("0.00"), D("1.25"))]


def test_fixture_denials_by_hand(reconciled: Path) -> None:
    rows = _query(
        reconciled,
        """
        select breakdown, breakdown_key, denial_month, denial_count, denied_claim_count,
               denied_amount, net_denied_amount
        from marts.fct_denial_breakdowns order by breakdown
        """,
    )
    april = date(2026, 4, 1)
    # The one denial: Medicare's CO-50 of E3's 99215 line, 200.00, on 20 April.
    assert rows == [
        (kind, key, april, 1, 1, D(200), D(200))
        for kind, key in (
            ("billing_provider", "PRV-B"),
            ("carc", "CO-50"),
            ("payer", MEDICARE),
            ("procedure_code", "99215"),
            ("rendering_provider", "PRV-R1"),
        )
    ]


def test_fixture_daily_ar_by_hand(reconciled: Path) -> None:
    rows = _query(
        reconciled,
        """
        select balance_date, insurance_balance_amount, patient_balance_amount, open_claim_count
        from marts.fct_ar_daily
        """,
    )
    days = {r[0]: r[1:] for r in rows}
    # From E8's self-pay charge (8 March) to the as-of date: 90 days.
    assert min(days) == date(2026, 3, 8) and max(days) == FIXTURE_AS_OF and len(days) == 90
    assert days[date(2026, 3, 14)] == (D(0), D(80), 1)  # E8, the patient's
    assert days[date(2026, 3, 15)] == (D(1130), D(80), 10)  # nine claims submitted
    # Acme's 835: E1, E2, E4 leave patient shares (20+100+15), E6 and E9 settle; E3, E5, E10,
    # E11 still owe 200+150+100+100.
    assert days[date(2026, 4, 10)] == (D(550), D(215), 8)
    assert days[date(2026, 4, 20)] == (D(200), D(215), 6)  # Medicare settles E3 and E5
    assert days[date(2026, 5, 15)] == (D(280), D(215), 7)  # E6's payment taken back
    assert days[FIXTURE_AS_OF] == (D(280), D(215), 7)
    by_payer = _query(
        reconciled,
        f"""
        select payer_id, insurance_balance_amount from marts.fct_ar_daily_by_payer
        where balance_date = '{FIXTURE_AS_OF}' order by payer_id
        """,
    )
    assert by_payer == [("00431", D(180)), (MEDICARE, D(100)), ("SELFPAY", D(0))]


# --- 2. the generated extract through the real cycle ----------------------------------------


def test_cycle_kpis_match_the_ledger(cycle: dict[str, Any]) -> None:
    assert_kpis_match_ledger(cycle["warehouse"])


def test_cycle_has_one_as_of_date(cycle: dict[str, Any]) -> None:
    [(kpis, aging, daily, scrub)] = _query(
        cycle["warehouse"],
        """
        select
            (select list(distinct as_of_date) from marts.fct_kpis),
            (select list(distinct as_of_date) from marts.fct_ar_aging),
            (select list(distinct as_of_date) from marts.fct_ar_daily),
            (select list(distinct scrub_as_of_date) from marts.fct_claim_scrub_status)
        """,
    )
    assert kpis == aging == daily == scrub == [AS_OF]


def test_cycle_figures_are_those_of_the_payers(cycle: dict[str, Any]) -> None:
    warehouse = cycle["warehouse"]
    # The simulated payers pay every line at its fee schedule except the lines they cut under
    # the multiple-procedure rule (CO-59): those, and only those, are underpaid, by the cut.
    [(mismatches, underpaid)] = _query(
        warehouse,
        """
        with cuts as (
            select claim_line_id, sum(amount) as cut
            from marts.fct_denials
            where group_code = 'CO' and reason_code = '59' and claim_line_id is not null
            group by claim_line_id
        )
        select
            (select count(*)
             from marts.fct_underpayments as u
             full outer join (select * from cuts where cut > 1.00) as c using (claim_line_id)
             where u.underpayment_amount is distinct from c.cut),
            (select count(*) from marts.fct_underpayments)
        """,
    )
    assert mismatches == 0
    assert underpaid > 0
    [(kpi_rows, nulls, denials_seen, denied_claims)] = _query(
        warehouse,
        """
        select
            (select count(*) from marts.fct_kpis where window_type = 'to_date'),
            (select count(*) from marts.fct_kpis where window_type = 'to_date' and value is null),
            (select count(*) from marts.fct_denial_breakdowns where breakdown = 'carc'),
            (select count(*) from marts.fct_claim_kpi_facts where is_initial_denial)
        """,
    )
    assert (kpi_rows, nulls) == (8, 0)
    assert denials_seen > 0 and denied_claims > 0


def test_cycle_rebuild_gives_identical_kpi_marts(cycle: dict[str, Any]) -> None:
    assert cycle["before"] == cycle["after"]
    assert all(cycle["before"][t] for t in KPI_MARTS)

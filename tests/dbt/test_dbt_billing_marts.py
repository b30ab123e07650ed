"""The dbt project end to end on a tiny hand-made extract (see fixtures/PROVENANCE.md).

Loads the fixture with the real loader, runs ``dbt build`` (seeds, models, data tests and
unit tests) twice, and checks the billing marts against hand-computed values: claim totals,
line numbering, self-pay handling, charges that cannot be billed, delivery corrections,
duplicate charges kept, NPI check digits, leading zeros, and identical marts on a rebuild.
"""

from __future__ import annotations

import hashlib
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.paths import dbt_project_dir
from tests.cycle_support import run_dbt, table_rows

PROJECT_DIR = dbt_project_dir()
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "extract"
MARTS = (
    "dim_patients",
    "dim_payers",
    "dim_providers",
    "fct_charges",
    "fct_claims",
    "fct_claim_lines",
    "fct_claim_diagnoses",
)


def _claim_id(encounter_id: str, payer_id: str | None) -> str:
    """The dbt macro claim_id, restated: 'C' + 16 upper-case hex of md5(encounter|payer)."""
    digest = hashlib.md5(f"{encounter_id}|{payer_id or ''}".encode()).hexdigest()  # noqa: S324
    return "C" + digest[:16].upper()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("dbt_billing")
    extract = work / "extract"
    shutil.copytree(FIXTURE, extract)
    warehouse = work / "warehouse.duckdb"
    outcomes = load_extract_dir(extract, warehouse, work / "quarantine")
    assert [o.status for o in outcomes] == [LoadStatus.LOADED] * len(outcomes)

    first = run_dbt(warehouse, work)
    assert first.returncode == 0, first.stdout[-4000:]
    snapshot_1 = table_rows(warehouse, MARTS)
    second = run_dbt(warehouse, work)
    assert second.returncode == 0, second.stdout[-4000:]
    return {"warehouse": warehouse, "first": snapshot_1, "second": table_rows(warehouse, MARTS)}


def _query(built: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_rebuild_gives_identical_marts(built: dict[str, Any]) -> None:
    assert built["first"] == built["second"]
    assert all(built["first"][t] for t in MARTS)


def test_claim_totals_lines_and_self_pay(built: dict[str, Any]) -> None:
    rows = _query(
        built,
        """
        select claim_id, encounter_id, payer_id, is_self_pay, line_count, total_charge_amount,
               service_date::varchar, service_date_to::varchar
        from marts.fct_claims order by encounter_id
        """,
    )
    expected = [
        ("E1", "00431", False, 3, Decimal("189.00"), "2026-03-02", "2026-03-02"),
        ("E2", "MCR01", False, 3, Decimal("54.50"), "2026-03-03", "2026-03-04"),
        ("E3", "SELFPAY", True, 1, Decimal("165.00"), "2026-03-04", "2026-03-04"),
        ("E4", "00431", False, 0, Decimal("0.00"), "2026-03-05", "2026-03-05"),
    ]
    assert rows == [(_claim_id(row[0], row[1]), *row) for row in expected]


def test_every_charged_dollar_is_accounted_for(built: dict[str, Any]) -> None:
    [(staged, on_claims, unbilled, lines, claims)] = _query(
        built,
        """
        select
            (select sum(charge_amount) from staging.stg_emr__charges),
            (select sum(charge_amount) from marts.fct_charges where claim_id is not null),
            (select list(charge_id) from marts.fct_charges where claim_id is null),
            (select sum(charge_amount) from marts.fct_claim_lines),
            (select sum(total_charge_amount) from marts.fct_claims)
        """,
    )
    assert staged == Decimal("518.50")
    assert on_claims == lines == claims == Decimal("408.50")
    assert unbilled == ["K08"]  # its encounter E9 does not exist


def test_lines_are_numbered_in_emr_order_with_line_ids(built: dict[str, Any]) -> None:
    claim = _claim_id("E1", "00431")
    rows = _query(
        built,
        f"""
        select claim_line_id, line_number, charge_id, procedure_code, modifier_1, charge_amount,
               diagnosis_code_1, diagnosis_code_2
        from marts.fct_claim_lines where claim_id = '{claim}' order by line_number
        """,
    )
    # K01 as corrected by the second delivery; K02 and K03 are identical in content and both kept.
    assert rows == [
        (f"{claim}-001", 1, "K01", "99214", "25", Decimal("165.00"), "E119", "I10"),
        (f"{claim}-002", 2, "K02", "36415", None, Decimal("12.00"), "E119", None),
        (f"{claim}-003", 3, "K03", "36415", None, Decimal("12.00"), "E119", None),
    ]


def test_pointer_to_a_missing_diagnosis_resolves_to_null(built: dict[str, Any]) -> None:
    rows = _query(
        built,
        "select charge_id, diagnosis_pointer_1, diagnosis_code_1, revenue_code "
        "from marts.fct_claim_lines where encounter_id = 'E2' order by line_number",
    )
    assert rows == [
        ("K04", 1, "R079", "0730"),
        ("K05", 1, "R079", "0300"),
        ("K06", 9, None, "0300"),
    ]


def test_subscriber_and_coverage_fields(built: dict[str, Any]) -> None:
    rows = _query(
        built,
        """
        select encounter_id, coverage_id, subscriber_id, relationship_to_subscriber, member_id,
               claim_filing_indicator, secondary_payer_id, type_of_bill, facility_provider_id
        from marts.fct_claims order by encounter_id
        """,
    )
    assert rows == [
        ("E1", "CV1", "P1", "18", "ACM1001", "CI", None, None, None),
        ("E2", "CV2", "P2", "18", "1EG4TE5MK72", "MB", "00431", "0131", "PRV-F"),
        ("E3", None, None, None, None, "09", None, None, None),
        ("E4", "CV4", "P1", "19", "ACM1001", "CI", None, None, None),
    ]


def test_claim_diagnoses_for_the_hi_segment(built: dict[str, Any]) -> None:
    rows = _query(
        built,
        "select claim_id, diagnosis_sequence, icd10_code, is_principal "
        "from marts.fct_claim_diagnoses where encounter_id = 'E1' order by diagnosis_sequence",
    )
    claim = _claim_id("E1", "00431")
    assert rows == [(claim, 1, "E119", True), (claim, 2, "I10", False)]


def test_npi_check_digit(built: dict[str, Any]) -> None:
    rows = _query(
        built, "select provider_id, npi, is_npi_luhn_valid from marts.dim_providers order by all"
    )
    assert rows == [
        ("PRV-B", "1234567893", True),
        ("PRV-F", "1000000004", True),
        ("PRV-R1", "1245319599", True),
        ("PRV-R2", "1234567890", False),
    ]


def test_keys_fit_x12(built: dict[str, Any]) -> None:
    [(bad_claims, bad_lines)] = _query(
        built,
        """
        select
            (select count(*) from marts.fct_claims
             where not regexp_full_match(claim_id, '[A-Z0-9]{1,20}')),
            (select count(*) from marts.fct_claim_lines
             where not regexp_full_match(claim_line_id, '[A-Z0-9-]{1,30}'))
        """,
    )
    assert (bad_claims, bad_lines) == (0, 0)

"""The dbt project on a generated extract with injected defects (conftest ``small_extract``,
built by conftest ``small_built_area``, which fails if dbt does).

Defective input must never fail the build (defects are the scrubber's to report), nothing
billed may be lost between the extract files and the claims, and what the generator's answer
key says was injected must still be visible in the marts, not silently repaired.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from revcycle.paths import WorkArea


@pytest.fixture(scope="module")
def generated(small_extract: Path, small_built_area: WorkArea) -> dict[str, Any]:
    """conftest's small extract, ingested and built by dbt (shared, read only)."""
    warehouse = small_built_area.warehouse
    with (small_extract / "charges.csv").open(encoding="utf-8", newline="") as fh:
        billed = sum((Decimal(row["charge_amount"]) for row in csv.DictReader(fh)), Decimal(0))
    with (small_extract.parent / "answer_keys" / "answer_key.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        answer_key = list(csv.DictReader(fh))
    return {"warehouse": warehouse, "billed": billed, "answer_key": answer_key}


def _query(generated: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(generated["warehouse"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def _keys(generated: dict[str, Any], defect: str) -> set[str]:
    return {row["row_key"] for row in generated["answer_key"] if row["defect"] == defect}


def test_every_billed_dollar_reaches_a_claim(generated: dict[str, Any]) -> None:
    [(claims, lines, charges, encounters, claim_count)] = _query(
        generated,
        """
        select
            (select sum(total_charge_amount) from marts.fct_claims),
            (select sum(charge_amount) from marts.fct_claim_lines),
            (select sum(charge_amount) from marts.fct_charges),
            (select count(*) from staging.stg_emr__encounters),
            (select count(*) from marts.fct_claims)
        """,
    )
    assert claims == lines == charges == generated["billed"]
    assert claim_count == encounters  # one claim per encounter, self-pay included


def test_invalid_npis_are_flagged(generated: dict[str, Any]) -> None:
    flagged = {
        row[0]
        for row in _query(
            generated, "select provider_id from marts.dim_providers where not is_npi_luhn_valid"
        )
    }
    assert flagged == _keys(generated, "invalid_npi")


def test_duplicate_charge_lines_are_kept(generated: dict[str, Any]) -> None:
    duplicates = _keys(generated, "duplicate_charge_line")
    on_claims = {row[0] for row in _query(generated, "select charge_id from marts.fct_claim_lines")}
    # A small extract may hold no defect of a given kind; the hand-made fixture of
    # test_dbt_billing_marts always has one of each that matters here.
    assert duplicates <= on_claims


def test_malformed_icd10_codes_stay_malformed(generated: dict[str, Any]) -> None:
    malformed = _keys(generated, "malformed_icd10")
    rows = _query(
        generated,
        """
        select d.encounter_id || ':' || d.diagnosis_sequence
        from marts.fct_claim_diagnoses as d
        left join code_sets.icd10cm_codes as c on d.icd10_code = c.icd10_code
        where c.icd10_code is null
        """,
    )
    assert {row[0] for row in rows} == malformed


def test_bad_diagnosis_pointers_resolve_to_no_code(generated: dict[str, Any]) -> None:
    unresolved = {
        row[0]
        for row in _query(
            generated,
            "select charge_id from marts.fct_claim_lines where diagnosis_code_1 is null",
        )
    }
    assert unresolved == _keys(generated, "bad_diagnosis_pointer")

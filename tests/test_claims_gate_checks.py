"""The claims gate's cross-dataset checks (a claim's total is a fact about its lines), run
through real great-expectations validations of small batches with the committed expectation
types: line counts and exact totals per claim, lines whose claim is missing, a repeated claim
id. The whole gate over a real warehouse is tests/flows/test_claims_gate.py."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

from revcycle.gates.claims_gate import CLAIMS_SUITE, LINES_SUITE, validate_batch


def _write_suites(folder: Path) -> None:
    claims_expectations = [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "claim_id"}},
        {
            "type": "expect_column_pair_values_to_be_equal",
            "kwargs": {"column_A": "line_count", "column_B": "line_row_count"},
        },
        {
            "type": "expect_column_pair_values_to_be_equal",
            "kwargs": {"column_A": "total_charge_amount", "column_B": "line_charge_total"},
        },
    ]
    lines_expectations = [
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "has_claim", "value_set": [True]},
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {
                "column": "revenue_code",
                "row_condition": "claim_type == 'institutional'",
                "condition_parser": "pandas",
            },
        },
    ]
    for name, expectations in (
        (CLAIMS_SUITE, claims_expectations),
        (LINES_SUITE, lines_expectations),
    ):
        (folder / f"{name}.json").write_text(
            json.dumps({"name": name, "expectations": expectations})
        )


def _claims(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim_id": [r[0] for r in rows],
            "claim_type": [r[1] for r in rows],
            "line_count": [r[2] for r in rows],
            "total_charge_amount": [Decimal(r[3]) for r in rows],
        }
    )


def _lines(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim_id": [r[0] for r in rows],
            "claim_line_id": [r[1] for r in rows],
            "charge_amount": [Decimal(r[2]) for r in rows],
            "revenue_code": [r[3] for r in rows],
        }
    )


def test_a_balanced_batch_passes(tmp_path: Path) -> None:
    _write_suites(tmp_path)
    claims = _claims([("C1", "professional", 2, "150.10"), ("C2", "institutional", 1, "0.01")])
    lines = _lines(
        [
            ("C1", "C1-1", "100.05", None),
            ("C1", "C1-2", "50.05", None),
            ("C2", "C2-1", "0.01", "0450"),
        ]
    )

    evaluated, failures = validate_batch(claims, lines, tmp_path)

    assert evaluated == 5
    assert failures == []


def test_totals_counts_orphans_and_repeats_are_each_reported(tmp_path: Path) -> None:
    _write_suites(tmp_path)
    claims = _claims(
        [
            ("C1", "professional", 2, "150.11"),  # lines add up to 150.10: one cent off
            ("C2", "institutional", 2, "0.01"),  # says 2 lines, has 1
            ("C3", "professional", 1, "10.00"),  # no lines at all: 0 lines, 0.00
            ("C4", "institutional", 1, "5.00"),
            ("C4", "institutional", 1, "5.00"),  # the same claim id twice
        ]
    )
    lines = _lines(
        [
            ("C1", "C1-1", "100.05", None),
            ("C1", "C1-2", "50.05", None),
            ("C2", "C2-1", "0.01", None),  # institutional without a revenue code
            ("C4", "C4-1", "5.00", "0450"),
            ("C9", "C9-1", "1.00", None),  # its claim is not in the batch
        ]
    )

    _, failures = validate_batch(claims, lines, tmp_path)

    found = {(f.dataset, f.expectation_type, f.column): f.unexpected_count for f in failures}
    assert found == {
        (CLAIMS_SUITE, "expect_column_values_to_be_unique", "claim_id"): 2,
        # C2 (2 vs 1) and C3 (1 vs 0); each copy of C4 is matched with C4's one line.
        (CLAIMS_SUITE, "expect_column_pair_values_to_be_equal", "line_count, line_row_count"): 2,
        # C1 one cent off and C3 (10.00 vs 0.00).
        (
            CLAIMS_SUITE,
            "expect_column_pair_values_to_be_equal",
            "total_charge_amount, line_charge_total",
        ): 2,
        (LINES_SUITE, "expect_column_values_to_be_in_set", "has_claim"): 1,
        (LINES_SUITE, "expect_column_values_to_not_be_null", "revenue_code"): 1,
    }

"""Patient statements on a real reconciled warehouse: the generated extract (conftest
``small_extract``) ingested, built with dbt, gated and billed in 837 files, answered by the
simulated clearinghouse and payers, the inbox loaded and the AR marts rebuilt, the order
flows/revenue_cycle.py runs them in. Then ``revcycle statements`` runs as a user runs it and
the PDFs are read back with pypdf. The warehouse is the session's small reconciled cycle
(tests/cycle_support.py), copied.

What a patient owes is computed here independently from the marts (the sum of
``fct_claim_balances.patient_responsibility_amount`` over the patient's claims, when above 0)
and must be the total printed on that patient's statement.
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from revcycle.paths import WorkArea
from revcycle.statements import (
    Address,
    build_statements,
    format_money,
    latin1,
    render_statement,
    statement_file_name,
)
from tests.cycle_support import copy_area

STATEMENT_DATE = date(2026, 11, 2)


@dataclass(frozen=True)
class Expected:
    """What each patient owes, computed from the marts without the statements module."""

    due: dict[str, Decimal]  # patient_id -> sum of patient responsibility, when > 0
    claims: dict[str, set[str]]  # patient_id -> claims with patient responsibility <> 0
    practices: dict[str, set[str]]  # patient_id -> billing providers of those claims
    self_pay_patients: set[str]  # patients owing on at least one self-pay claim


def _expected(warehouse: Path) -> Expected:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select c.patient_id, b.claim_id, c.billing_provider_id, b.is_self_pay,
                b.patient_responsibility_amount
            from marts.fct_claim_balances as b
            join marts.fct_claims as c on b.claim_id = c.claim_id
            """
        ).fetchall()
    totals: dict[str, Decimal] = {}
    for patient, _claim, _practice, _self_pay, amount in rows:
        totals[patient] = totals.get(patient, Decimal("0.00")) + amount
    due = {p: amount for p, amount in totals.items() if amount > 0}
    claims: dict[str, set[str]] = {p: set() for p in due}
    practices: dict[str, set[str]] = {p: set() for p in due}
    self_pay: set[str] = set()
    for patient, claim, practice, is_self_pay, amount in rows:
        if patient in due and amount != 0:
            claims[patient].add(claim)
            practices[patient].add(practice)
            if is_self_pay:
                self_pay.add(patient)
    return Expected(due, claims, practices, self_pay)


def _revcycle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "revcycle", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.fixture(scope="module")
def reconciled(small_cycle_area: WorkArea, tmp_path_factory: pytest.TempPathFactory) -> WorkArea:
    """The session's small reconciled cycle (tests/cycle_support.py), copied: statements are
    written into the work area."""
    return copy_area(small_cycle_area, tmp_path_factory.mktemp("statements") / "data")


@pytest.fixture(scope="module")
def statements_run(reconciled: WorkArea) -> subprocess.CompletedProcess[str]:
    """``revcycle statements`` once, into the work area's default folder."""
    return _revcycle(
        "statements", "--data-dir", str(reconciled.root), "--as-of", STATEMENT_DATE.isoformat()
    )


def test_every_patient_owing_after_insurance_gets_a_statement_with_the_marts_total(
    reconciled: WorkArea, statements_run: subprocess.CompletedProcess[str]
) -> None:
    expected = _expected(reconciled.warehouse)
    # The warehouse is what statements are for: remittances moved money to patients, and
    # self-pay claims are billed to them too.
    assert len(expected.due) > 20
    assert expected.self_pay_patients
    assert any(len(p) > 1 for p in expected.practices.values())

    result = statements_run
    assert result.returncode == 0, result.stderr
    folder = reconciled.statements
    total = sum(expected.due.values(), Decimal("0.00"))
    assert f"{len(expected.due):,} patient statement(s), {format_money(total)} due" in (
        result.stdout
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        statement_file_name(patient, STATEMENT_DATE) for patient in expected.due
    )
    # Names carry no PHI: the account number and the statement date only.
    assert all(re.fullmatch(r"statement_P\d+_2026-11-02\.pdf", p.name) for p in folder.iterdir())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}

    for patient, due in expected.due.items():
        text = _pdf_text(folder / statement_file_name(patient, STATEMENT_DATE))
        totals = re.findall(r"Total amount due: (\$[\d,]+\.\d\d)", text)
        assert totals == [format_money(due)], patient
        assert "11/02/2026" in text and patient in text
        # One remittance stub per practice the patient owes.
        assert text.count("Amount enclosed") == len(expected.practices[patient]), patient
        for claim in expected.claims[patient]:
            assert claim in text, (patient, claim)
    # A patient who owes several practices: each stub carries its own pay-to address.
    several = next(p for p, practices in expected.practices.items() if len(practices) > 1)
    text = _pdf_text(folder / statement_file_name(several, STATEMENT_DATE))
    assert text.count("Make checks payable to and mail to:") == len(expected.practices[several])


def test_statements_are_byte_identical_when_run_again(reconciled: WorkArea, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        result = _revcycle(
            "statements",
            "--data-dir",
            str(reconciled.root),
            "--as-of",
            "2026-11-03",
            "--out",
            str(out),
        )
        assert result.returncode == 0, result.stderr
    assert _digests(first) == _digests(second)
    assert len(_digests(first)) == len(_expected(reconciled.warehouse).due)
    # The PDF's creation date is the statement date, not the clock.
    reader = PdfReader(next(first.iterdir()))
    assert reader.metadata is not None
    assert reader.metadata.get("/CreationDate") == "D:20261103000000Z"


def test_statement_shows_service_codes_with_our_labels_only(
    reconciled: WorkArea, statements_run: subprocess.CompletedProcess[str]
) -> None:
    """Labels come from our code set (fct_charges.procedure_label), never invented text."""
    expected = _expected(reconciled.warehouse)
    patient = min(expected.self_pay_patients)
    with duckdb.connect(str(reconciled.warehouse), read_only=True) as con:
        lines = con.execute(
            """
            select l.procedure_code, ch.procedure_label
            from marts.fct_claim_lines as l
            join marts.fct_charges as ch on l.charge_id = ch.charge_id
            join marts.fct_claims as c on l.claim_id = c.claim_id
            where c.patient_id = ? and c.is_self_pay
            """,
            [patient],
        ).fetchall()
    assert lines
    assert statements_run.returncode == 0, statements_run.stderr
    path = reconciled.statements / statement_file_name(patient, STATEMENT_DATE)
    words = " ".join(_pdf_text(path).split())
    for code, label in lines:
        assert code in words
        assert label is None or " ".join(label.split()) in words, (code, label)
    assert "self-pay" in words


def test_money_and_text_helpers() -> None:
    assert format_money(Decimal("1234.5")) == "$1,234.50"
    assert format_money(Decimal("-0.125")) == "-$0.13"
    assert format_money(Decimal("0")) == "$0.00"
    assert latin1("Zoë O\u2019Brien \u2013 Łódź\tSt") == "Zoë O'Brien - ?ódz St"
    assert statement_file_name("P001", date(2026, 1, 2)) == "statement_P001_2026-01-02.pdf"
    odd = statement_file_name("../P 1", date(2026, 1, 2))
    assert "/" not in odd and odd.startswith("statement____P_1_")
    assert odd != statement_file_name("../P_1", date(2026, 1, 2))


def _claim_row(
    patient: str, claim: str, practice: str, owed: str, **extra: object
) -> dict[str, object]:
    return {
        "patient_id": patient,
        "claim_id": claim,
        "billing_provider_id": practice,
        "payer_id": "PAYA",
        "payer_name": "Acme Health",
        "service_date": date(2026, 9, 1),
        "is_self_pay": False,
        "charge_amount": Decimal("100.00"),
        "paid_amount": Decimal("60.00"),
        "adjustment_amount": Decimal("40.00") - Decimal(owed),
        "open_balance_amount": Decimal("0.00"),
        "patient_responsibility_amount": Decimal(owed),
        **extra,
    }


def test_statements_group_by_practice_and_hold_what_cannot_be_mailed() -> None:
    """One section per practice, ordered by provider id; a patient without an address, or
    owing a practice without a pay-to address, is held with a reason naming ids only."""
    home = Address("Pat Example", "1 Main St", None, "Sacramento", "CA", "958140000")
    clinic = Address("Clinic", "2 Oak St", "Suite 3", "Sacramento", "CA", "95814")
    rows = [
        _claim_row("P1", "CB", "PRV2", "15.00"),
        _claim_row("P1", "CA", "PRV1", "10.00", is_self_pay=True, payer_id="SELFPAY"),
        _claim_row("P2", "CC", "PRV1", "5.00"),
        _claim_row("P3", "CD", "PRV9", "7.50"),
    ]
    lines = [
        {
            "claim_id": "CA",
            "service_date": date(2026, 9, 1),
            "procedure_code": "99213",
            "procedure_label": None,
            "charge_amount": Decimal("100.00"),
        }
    ]

    batch = build_statements(
        rows,
        lines,
        {"P1": home, "P2": None, "P3": home},
        {"PRV1": clinic, "PRV2": clinic, "PRV9": None},
        STATEMENT_DATE,
    )

    (statement,) = batch.statements
    assert statement.patient_id == "P1" and statement.amount_due == Decimal("25.00")
    assert [s.provider_id for s in statement.sections] == ["PRV1", "PRV2"]
    first = statement.sections[0].claims[0]
    assert first.payer_name is None  # self-pay
    assert first.lines[0].label is None  # no label in our code set: the code alone
    assert [(h.patient_id, h.amount_due) for h in batch.held] == [
        ("P2", Decimal("5.00")),
        ("P3", Decimal("7.50")),
    ]
    assert "PRV9" in batch.held[1].reason
    assert batch.total_due == Decimal("25.00") and batch.held_amount == Decimal("12.50")
    assert clinic.lines() == ["Clinic", "2 Oak St", "Suite 3", "Sacramento, CA 95814"]
    assert home.lines()[-1] == "Sacramento, CA 95814-0000"
    # Renders the bare code where there is no label, and the total across both practices.
    pdf = PdfReader(io.BytesIO(render_statement(statement)))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Total amount due: $25.00" in text
    assert "99213" in text and "self-pay" in text
    assert text.count("Amount enclosed") == 2

"""Reconciliation end to end on a tiny hand-written warehouse (see fixtures/PROVENANCE.md).

The EMR side is loaded with the real loader; ``ops.submissions`` rows, 999 and 277CA rows and
three parsed 835 files (payment A and B from Acme, payment C from Medicare) are written by
hand in the tables of docs/remittance-tables.md. ``dbt build`` then runs every model and
test, and the marts are checked against balances, statuses and work items computed by hand
(the figures are in the comments next to the rows). Finally payment A is delivered a second
time (new file name, new bytes, same payer, trace number, amount and date) and the marts must
not change at all.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.paths import dbt_project_dir
from tests.cycle_support import run_dbt, table_rows

# The scrubber's as-of date for the fixture build (timely filing, future service dates).
RECONCILE_AS_OF = date(2026, 11, 1)
PROJECT_DIR = dbt_project_dir()
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "extract"
MARTS = (
    "fct_ar_ledger",
    "fct_claim_balances",
    "fct_claim_status_history",
    "fct_remit_work_queue",
    "fct_denials",
)
ACME, MEDICARE = "00431", "MCR01"
D = Decimal

# The raw tables of docs/remittance-tables.md, as the inbox loader creates them (the dbt
# macro x12_raw_table_columns declares the same columns).
RAW_COLUMNS: dict[str, str] = {
    "x12_remit_payments": """payment_id varchar, file_name varchar, file_sha256 varchar,
        interchange_control_number varchar, transaction_control_number varchar,
        handling_code varchar, payment_amount decimal(18,2), credit_debit_flag varchar,
        payment_method varchar, payment_date date, trace_number varchar,
        originating_company_id varchar, payer_name varchar, payer_id varchar,
        payee_name varchar, payee_id_qualifier varchar, payee_id varchar,
        production_date date, position integer""",
    "x12_remit_claims": """claim_payment_id varchar, payment_id varchar,
        patient_control_number varchar, claim_status_code varchar,
        total_charge_amount decimal(18,2), paid_amount decimal(18,2),
        patient_responsibility_amount decimal(18,2), claim_filing_indicator varchar,
        payer_claim_control_number varchar, facility_type_code varchar,
        claim_frequency_code varchar, service_date_from date, service_date_to date,
        received_date date, interest_amount decimal(18,2), coverage_amount decimal(18,2),
        corrected_patient_control_number varchar, position integer""",
    "x12_remit_service_lines": """service_line_id varchar, claim_payment_id varchar,
        procedure_qualifier varchar, procedure_code varchar, modifier_1 varchar,
        modifier_2 varchar, modifier_3 varchar, modifier_4 varchar,
        charge_amount decimal(18,2), paid_amount decimal(18,2), revenue_code varchar,
        units_paid decimal(18,4), original_procedure_code varchar,
        original_units decimal(18,4), service_date_from date, service_date_to date,
        line_control_number varchar, allowed_amount decimal(18,2), remark_codes varchar,
        position integer""",
    "x12_remit_adjustments": """adjustment_id varchar, claim_payment_id varchar,
        service_line_id varchar, level varchar, group_code varchar, reason_code varchar,
        amount decimal(18,2), quantity decimal(18,4), position integer""",
    "x12_remit_provider_adjustments": """provider_adjustment_id varchar, payment_id varchar,
        provider_id varchar, fiscal_period_date date, reason_code varchar,
        reference_id varchar, amount decimal(18,2), position integer""",
    "x12_remit_balance_checks": """payment_id varchar, claim_payment_id varchar,
        service_line_id varchar, level varchar, expected_amount decimal(18,2),
        actual_amount decimal(18,2), difference_amount decimal(18,2), is_balanced boolean""",
    "x12_ack_999_transactions": """ack_id varchar, file_name varchar, file_sha256 varchar,
        acknowledged_group_control_number varchar, functional_id varchar,
        acknowledged_transaction_set_id varchar,
        acknowledged_transaction_control_number varchar, transaction_status varchar,
        group_status varchar, error_count integer, error_summary varchar, position integer""",
    "x12_ack_277ca_claims": """ack_id varchar, file_name varchar, file_sha256 varchar,
        patient_control_number varchar, payer_claim_control_number varchar,
        status_category varchar, status_code varchar, status_effective_date date,
        is_accepted boolean, total_charge_amount decimal(18,2), service_date date,
        status_codes varchar, position integer""",
}
LINEAGE = "_source_file varchar, _file_sha256 varchar, _loaded_at timestamp"


def claim_id(encounter_id: str, payer_id: str) -> str:
    """The dbt macro claim_id: 'C' + 16 upper-case hex of md5(encounter|payer)."""
    digest = hashlib.md5(f"{encounter_id}|{payer_id}".encode()).hexdigest()  # noqa: S324
    return "C" + digest[:16].upper()


def line_id(encounter_id: str, payer_id: str, line: int) -> str:
    return f"{claim_id(encounter_id, payer_id)}-{line:03d}"


C1 = claim_id("E1", ACME)
C2 = claim_id("E2", ACME)
C3 = claim_id("E3", MEDICARE)
C4 = claim_id("E4", ACME)
C5 = claim_id("E5", MEDICARE)
C6 = claim_id("E6", ACME)
C7 = claim_id("E7", ACME)
C8 = claim_id("E8", "SELFPAY")
C9 = claim_id("E9", ACME)
C10 = claim_id("E10", MEDICARE)
C11 = claim_id("E11", ACME)


@dataclass
class ParsedFile:
    """Rows of one parsed X12 file, with ids and positions made the way the parser makes them
    (``<sha256[:16]>-<ST02>-<position>``, children ``<parent>-<position>``)."""

    file_name: str
    loaded_at: datetime
    sha: str = ""
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    position: int = 0

    def __post_init__(self) -> None:
        self.sha = hashlib.sha256(self.file_name.encode()).hexdigest()

    def _next(self) -> int:
        self.position += 1
        return self.position

    def payment(self, st02: str, **values: Any) -> str:
        position = self._next()
        payment_id = f"{self.sha[:16]}-{st02}-{position}"
        self.rows["x12_remit_payments"].append(
            {
                "payment_id": payment_id,
                "file_name": self.file_name,
                "file_sha256": self.sha,
                "transaction_control_number": st02,
                "position": position,
                "handling_code": "I",
                "credit_debit_flag": "C",
                "payment_method": "ACH",
                **values,
            }
        )
        return payment_id

    def claim(self, payment_id: str, **values: Any) -> str:
        position = self._next()
        claim_payment_id = f"{payment_id}-{position}"
        row = {"claim_payment_id": claim_payment_id, "payment_id": payment_id, "position": position}
        self.rows["x12_remit_claims"].append(row | values)
        return claim_payment_id

    def line(self, claim_payment_id: str, code: str, charge: str, paid: str, **values: Any) -> str:
        position = self._next()
        service_line_id = f"{claim_payment_id}-{position}"
        self.rows["x12_remit_service_lines"].append(
            {
                "service_line_id": service_line_id,
                "claim_payment_id": claim_payment_id,
                "procedure_qualifier": "HC",
                "procedure_code": code,
                "charge_amount": D(charge),
                "paid_amount": D(paid),
                "units_paid": D(1),
                "position": position,
                **values,
            }
        )
        return service_line_id

    def cas(
        self, claim_payment_id: str, service_line_id: str | None, group: str, *pairs: str
    ) -> None:
        """One CAS segment: group, then reason/amount pairs ("45", "20.00", "2", "20.00")."""
        position = self._next()
        parent = service_line_id or claim_payment_id
        for triplet, (reason, amount) in enumerate(zip(pairs[::2], pairs[1::2], strict=True), 1):
            self.rows["x12_remit_adjustments"].append(
                {
                    "adjustment_id": f"{parent}-{position}-{triplet}",
                    "claim_payment_id": claim_payment_id,
                    "service_line_id": service_line_id,
                    "level": "line" if service_line_id else "claim",
                    "group_code": group,
                    "reason_code": reason,
                    "amount": D(amount),
                    "position": position,
                }
            )

    def plb(self, payment_id: str, *pairs: tuple[str, str | None, str]) -> None:
        """One PLB segment: (reason, reference, amount) pairs; positive reduces the payment."""
        position = self._next()
        for pair, (reason, reference, amount) in enumerate(pairs, 1):
            self.rows["x12_remit_provider_adjustments"].append(
                {
                    "provider_adjustment_id": f"{payment_id}-{position}-{pair}",
                    "payment_id": payment_id,
                    "provider_id": "1234567893",
                    "fiscal_period_date": date(2026, 12, 31),
                    "reason_code": reason,
                    "reference_id": reference,
                    "amount": D(amount),
                    "position": position,
                }
            )

    def transaction_check(self, payment_id: str, bpr02: str, claims_minus_plb: str) -> None:
        """As the parser records it: expected from the parts, actual what the payer reported."""
        expected, actual = D(claims_minus_plb), D(bpr02)
        self.rows["x12_remit_balance_checks"].append(
            {
                "payment_id": payment_id,
                "level": "transaction",
                "expected_amount": expected,
                "actual_amount": actual,
                "difference_amount": actual - expected,
                "is_balanced": actual == expected,
            }
        )


def acme_payment_a(parsed: ParsedFile, isa13: str) -> None:
    """Acme check A, 2026-04-10. sum(CLP04) = 390.00, PLB L6 -3.00, BPR02 = 393.00."""
    pay = parsed.payment(
        "0001",
        interchange_control_number=isa13,
        payment_amount=D("393.00"),
        payment_date=date(2026, 4, 10),
        trace_number="TRACE-A1",
        originating_company_id="1999999999",
        payer_name="ACME HEALTH PLAN",
        payer_id=ACME,
        production_date=date(2026, 4, 9),
    )
    # E1 paid: line 1 CO-45 20 + PR-2 20 (paid 60), line 2 CO-45 5 (paid 15): paid 75.
    clp = parsed.claim(
        pay,
        patient_control_number=C1,
        claim_status_code="1",
        total_charge_amount=D("120.00"),
        paid_amount=D("75.00"),
        patient_responsibility_amount=D("20.00"),
        payer_claim_control_number="ICN1",
    )
    svc = parsed.line(
        clp,
        "99213",
        "100.00",
        "60.00",
        line_control_number=line_id("E1", ACME, 1),
        service_date_from=date(2026, 3, 2),
    )
    parsed.cas(clp, svc, "CO", "45", "20.00")
    parsed.cas(clp, svc, "PR", "2", "20.00")
    svc = parsed.line(clp, "36415", "20.00", "15.00", line_control_number=line_id("E1", ACME, 2))
    parsed.cas(clp, svc, "CO", "45", "5.00")
    # E2 zero pay, not a denial: CO-45 50, PR-1 100, paid 0; the line has no REF*6R.
    clp = parsed.claim(
        pay,
        patient_control_number=C2,
        claim_status_code="1",
        total_charge_amount=D("150.00"),
        paid_amount=D("0.00"),
        patient_responsibility_amount=D("100.00"),
        payer_claim_control_number="ICN2",
    )
    svc = parsed.line(clp, "99214", "150.00", "0.00", service_date_from=date(2026, 3, 3))
    parsed.cas(clp, svc, "CO", "45", "50.00")
    parsed.cas(clp, svc, "PR", "1", "100.00")
    # E4 original payment (reversed in B): paid 60, CO-45 35, PR-3 15.
    clp = parsed.claim(
        pay,
        patient_control_number=C4,
        claim_status_code="1",
        total_charge_amount=D("110.00"),
        paid_amount=D("60.00"),
        patient_responsibility_amount=D("15.00"),
        payer_claim_control_number="ICN4A",
    )
    svc = parsed.line(clp, "99213", "100.00", "55.00", line_control_number=line_id("E4", ACME, 1))
    parsed.cas(clp, svc, "CO", "45", "30.00")
    parsed.cas(clp, svc, "PR", "3", "15.00")
    svc = parsed.line(clp, "81002", "10.00", "5.00", line_control_number=line_id("E4", ACME, 2))
    parsed.cas(clp, svc, "CO", "45", "5.00")
    # E6 paid 80 at claim level (no lines), CO-45 20; AMT*I 2.00 (taken back in B).
    clp = parsed.claim(
        pay,
        patient_control_number=C6,
        claim_status_code="1",
        total_charge_amount=D("100.00"),
        paid_amount=D("80.00"),
        payer_claim_control_number="ICN6",
        interest_amount=D("2.00"),
    )
    parsed.cas(clp, None, "CO", "45", "20.00")
    # E9: CLP01 truncated to 12 characters, lower-cased and padded; lines by code + modifiers.
    clp = parsed.claim(
        pay,
        patient_control_number=C9[:12].lower() + "  ",
        claim_status_code="1",
        total_charge_amount=D("100.00"),
        paid_amount=D("90.00"),
        payer_claim_control_number="ICN9",
    )
    svc = parsed.line(clp, "99213", "20.00", "20.00", service_date_from=date(2026, 3, 9))
    svc = parsed.line(
        clp, "99213", "80.00", "70.00", modifier_1="25", service_date_from=date(2026, 3, 9)
    )
    parsed.cas(clp, svc, "CO", "45", "10.00")
    parsed.line(clp, "97110", "0.00", "0.00", line_control_number="C0000000000000000-009")
    # Unknown patient control number: 25.00 of unapplied cash.
    clp = parsed.claim(
        pay,
        patient_control_number="ZZ999",
        claim_status_code="1",
        total_charge_amount=D("30.00"),
        paid_amount=D("25.00"),
        payer_claim_control_number="ICNX",
    )
    parsed.cas(clp, None, "CO", "45", "5.00")
    # E3 is a Medicare claim: Acme paying it is a payer mismatch (10.00 unapplied).
    clp = parsed.claim(
        pay,
        patient_control_number=C3,
        claim_status_code="1",
        total_charge_amount=D("200.00"),
        paid_amount=D("10.00"),
        payer_claim_control_number="ICNM",
    )
    parsed.cas(clp, None, "CO", "45", "190.00")
    # E7 was never submitted (50.00 unapplied).
    clp = parsed.claim(
        pay,
        patient_control_number=C7,
        claim_status_code="1",
        total_charge_amount=D("100.00"),
        paid_amount=D("50.00"),
        payer_claim_control_number="ICN7",
    )
    parsed.cas(clp, None, "CO", "45", "50.00")
    # Interest for the check without a claim reference: 2.00 goes to E6 (its AMT*I), 1.00 stays.
    parsed.plb(pay, ("L6", None, "-3.00"))
    parsed.transaction_check(pay, "393.00", "393.00")


def acme_payment_b(parsed: ParsedFile) -> None:
    """Acme remittance B, 2026-05-15. sum(CLP04) = 10.00, PLB 10.00, BPR02 = 0.00."""
    pay = parsed.payment(
        "0001",
        interchange_control_number="000000777",
        handling_code="H",
        payment_method="NON",
        payment_amount=D("0.00"),
        payment_date=date(2026, 5, 15),
        trace_number="TRACE-B1",
        originating_company_id="1999999999",
        payer_name="ACME HEALTH PLAN",
        payer_id=ACME,
    )
    # E4 reversal of ICN4A (negated amounts, original reason codes) ...
    clp = parsed.claim(
        pay,
        patient_control_number=C4,
        claim_status_code="22",
        total_charge_amount=D("-110.00"),
        paid_amount=D("-60.00"),
        patient_responsibility_amount=D("-15.00"),
        payer_claim_control_number="ICN4A",
    )
    svc = parsed.line(clp, "99213", "-100.00", "-55.00", line_control_number=line_id("E4", ACME, 1))
    parsed.cas(clp, svc, "CO", "45", "-30.00")
    parsed.cas(clp, svc, "PR", "3", "-15.00")
    svc = parsed.line(clp, "81002", "-10.00", "-5.00", line_control_number=line_id("E4", ACME, 2))
    parsed.cas(clp, svc, "CO", "45", "-5.00")
    # ... and its correction: paid 70, CO-45 25, PR-3 15.
    clp = parsed.claim(
        pay,
        patient_control_number=C4,
        claim_status_code="1",
        total_charge_amount=D("110.00"),
        paid_amount=D("70.00"),
        patient_responsibility_amount=D("15.00"),
        payer_claim_control_number="ICN4B",
    )
    svc = parsed.line(clp, "99213", "100.00", "65.00", line_control_number=line_id("E4", ACME, 1))
    parsed.cas(clp, svc, "CO", "45", "20.00")
    parsed.cas(clp, svc, "PR", "3", "15.00")
    svc = parsed.line(clp, "81002", "10.00", "5.00", line_control_number=line_id("E4", ACME, 2))
    parsed.cas(clp, svc, "CO", "45", "5.00")
    # E2's number with service dates two months off its visit: not matched.
    parsed.claim(
        pay,
        patient_control_number=C2,
        claim_status_code="1",
        total_charge_amount=D("150.00"),
        paid_amount=D("0.00"),
        payer_claim_control_number="ICN2X",
        service_date_from=date(2026, 5, 1),
    )
    # Takeback of E6's 80.00 (no reversal: the PLB is the only record), interest on E1,
    # a takeback of a claim we do not know, and the negative balance carried forward.
    parsed.plb(
        pay,
        ("WO", C6, "80.00"),
        ("L6", f"{C1} 20260302 ICN1", "-5.00"),
        ("WO", "CNOTOURS123", "12.50"),
        ("FB", "FB-2026-05", "-77.50"),
    )
    parsed.transaction_check(pay, "0.00", "0.00")


def medicare_payment_c(parsed: ParsedFile) -> None:
    """Medicare EFT C, 2026-04-20. sum(CLP04) = 110.00 but BPR02 = 110.01 (out of balance)."""
    pay = parsed.payment(
        "0002",
        interchange_control_number="000004242",
        payment_amount=D("110.01"),
        payment_date=date(2026, 4, 20),
        trace_number="EFT-C1",
        originating_company_id="1888888888",
        payer_name="MEDICARE PART B",
        payer_id=MEDICARE,
    )
    # E3 denied whole: CO-50 200.
    clp = parsed.claim(
        pay,
        patient_control_number=C3,
        claim_status_code="4",
        total_charge_amount=D("200.00"),
        paid_amount=D("0.00"),
        payer_claim_control_number="MC3",
    )
    svc = parsed.line(
        clp,
        "99215",
        "200.00",
        "0.00",
        line_control_number=line_id("E3", MEDICARE, 1),
        remark_codes="N115",
    )
    parsed.cas(clp, svc, "CO", "50", "200.00")
    # E5 split in two claim payments (two CLP07): 70 + 40 paid, CO-45 30 + 10.
    clp = parsed.claim(
        pay,
        patient_control_number=C5,
        claim_status_code="1",
        total_charge_amount=D("100.00"),
        paid_amount=D("70.00"),
        payer_claim_control_number="MC5A",
    )
    svc = parsed.line(
        clp, "99213", "100.00", "70.00", line_control_number=line_id("E5", MEDICARE, 1)
    )
    parsed.cas(clp, svc, "CO", "45", "30.00")
    clp = parsed.claim(
        pay,
        patient_control_number=C5,
        claim_status_code="1",
        total_charge_amount=D("50.00"),
        paid_amount=D("40.00"),
        payer_claim_control_number="MC5B",
    )
    svc = parsed.line(
        clp, "93000", "50.00", "40.00", line_control_number=line_id("E5", MEDICARE, 2)
    )
    parsed.cas(clp, svc, "CO", "45", "10.00")
    parsed.transaction_check(pay, "110.01", "110.00")


def acknowledgements() -> tuple[ParsedFile, ParsedFile]:
    ack_999 = ParsedFile("ack_999_20260320.x12", datetime(2026, 3, 20, 8, 0))
    base = {
        "file_name": ack_999.file_name,
        "file_sha256": ack_999.sha,
        "functional_id": "HC",
        "acknowledged_transaction_set_id": "837",
        "error_count": 0,
    }
    ack_999.rows["x12_ack_999_transactions"] += [
        # Acme group 1 / ST 0001 accepted; Medicare group 2 echoed with and without zeros.
        base
        | {
            "ack_id": "K1",
            "acknowledged_group_control_number": "1",
            "acknowledged_transaction_control_number": "0001",
            "transaction_status": "A",
            "group_status": "A",
            "position": 4,
        },
        base
        | {
            "ack_id": "K2",
            "acknowledged_group_control_number": "000000002",
            "acknowledged_transaction_control_number": "2",
            "transaction_status": "A",
            "group_status": "A",
            "position": 14,
        },
        # Group 3 (E10) rejected.
        base
        | {
            "ack_id": "K3",
            "acknowledged_group_control_number": "3",
            "acknowledged_transaction_control_number": "0003",
            "transaction_status": "R",
            "group_status": "R",
            "error_count": 1,
            "error_summary": "NM1 at position 12: 8",
            "position": 24,
        },
        # A group we never sent.
        base
        | {
            "ack_id": "K4",
            "acknowledged_group_control_number": "77",
            "acknowledged_transaction_control_number": "0077",
            "transaction_status": "A",
            "group_status": "A",
            "position": 34,
        },
    ]
    ack_277 = ParsedFile("ack_277ca_20260325.x12", datetime(2026, 3, 25, 8, 0))
    base = {
        "file_name": ack_277.file_name,
        "file_sha256": ack_277.sha,
        "status_effective_date": date(2026, 3, 22),
    }
    ack_277.rows["x12_ack_277ca_claims"] += [
        base
        | {
            "ack_id": "S1",
            "patient_control_number": C1,
            "status_category": "A2",
            "status_code": "20",
            "is_accepted": True,
            "total_charge_amount": D("120.00"),
            "service_date": date(2026, 3, 2),
            "position": 10,
        },
        base
        | {
            "ack_id": "S2",
            "patient_control_number": C11,
            "status_category": "A7",
            "status_code": "562",
            "is_accepted": False,
            "total_charge_amount": D("100.00"),
            "service_date": date(2026, 3, 11),
            "position": 20,
        },
        base
        | {
            "ack_id": "S3",
            "patient_control_number": "CDOESNOTEXIST0001",
            "status_category": "A7",
            "status_code": "21",
            "is_accepted": False,
            "total_charge_amount": D("55.00"),
            "position": 30,
        },
    ]
    return ack_999, ack_277


def submissions() -> list[dict[str, Any]]:
    """What the 837 writer would have recorded: Acme claims in group 1, Medicare in 2, E10 in 3.
    E7 was never sent; E8 is self-pay."""
    sent = [
        ("E1", ACME, 2, "1"),
        ("E2", ACME, 1, "1"),
        ("E4", ACME, 2, "1"),
        ("E6", ACME, 1, "1"),
        ("E9", ACME, 2, "1"),
        ("E11", ACME, 1, "1"),
        ("E3", MEDICARE, 1, "2"),
        ("E5", MEDICARE, 2, "2"),
        ("E10", MEDICARE, 1, "3"),
    ]
    rows = []
    for encounter, payer, lines, group in sent:
        isa13 = group.zfill(9)
        claim = claim_id(encounter, payer)
        common = {
            "file_name": f"{payer}_837P_{isa13}.x12",
            "interchange_control_number": isa13,
            "group_control_number": group,
            "transaction_control_number": group.zfill(4),
            "claim_frequency_code": "1",
            "payer_id": payer,
            "submitted_at": datetime(2026, 3, 15, 9, 30),
        }
        rows.append(
            common | {"submission_id": f"{isa13}-{claim}", "claim_id": claim, "claim_line_id": None}
        )
        for line in range(1, lines + 1):
            claim_line = f"{claim}-{line:03d}"
            rows.append(
                common
                | {
                    "submission_id": f"{isa13}-{claim_line}",
                    "claim_id": claim,
                    "claim_line_id": claim_line,
                }
            )
    return rows


def insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: list[dict[str, Any]],
    lineage: ParsedFile | None = None,
) -> None:
    for row in rows:
        values = dict(row)
        if lineage is not None:
            values |= {
                "_source_file": lineage.file_name,
                "_file_sha256": lineage.sha,
                "_loaded_at": lineage.loaded_at,
            }
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        con.execute(f"insert into {table} ({columns}) values ({marks})", list(values.values()))


def load_parsed(warehouse: Path, *files: ParsedFile) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for parsed in files:
            for table, rows in parsed.rows.items():
                insert(con, f"raw.{table}", rows, lineage=parsed)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("reconcile")
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

    first = run_dbt(warehouse, work, RECONCILE_AS_OF)
    assert first.returncode == 0, first.stdout[-6000:]
    before = table_rows(warehouse, MARTS)

    # The payer sends check A again: new interchange, new file, new bytes (so new ids), the
    # same payer, trace number, amount and date.
    resent = ParsedFile("acme_835_20260410_resent.x12", datetime(2026, 6, 1, 12, 0))
    acme_payment_a(resent, isa13="000000502")
    load_parsed(warehouse, resent)
    second = run_dbt(warehouse, work, RECONCILE_AS_OF)
    assert second.returncode == 0, second.stdout[-6000:]
    return {
        "warehouse": warehouse,
        "before": before,
        "after": table_rows(warehouse, MARTS),
        "build_log": first.stdout,
        "resent": resent,
    }


def query(built: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_claim_balances_match_hand_computed_figures(built: dict[str, Any]) -> None:
    rows = query(
        built,
        """
        select claim_id, charge_amount, paid_amount, contractual_adjustment_amount,
               other_adjustment_amount, patient_responsibility_amount, open_balance_amount,
               interest_amount, claim_status
        from marts.fct_claim_balances
    """,
    )
    got = {row[0]: row[1:] for row in rows}
    z = D("0.00")
    expected = {
        # charge, paid, CO, other, PR, open, interest, status
        C1: (D("120.00"), D("75.00"), D("25.00"), z, D("20.00"), z, D("5.00"), "paid"),
        C2: (D("150.00"), z, D("50.00"), z, D("100.00"), z, z, "patient_responsibility"),
        C3: (D("200.00"), z, D("200.00"), z, z, z, z, "denied"),
        # Reversal then correction: the net effect is the correction alone.
        C4: (D("110.00"), D("70.00"), D("25.00"), z, D("15.00"), z, z, "paid"),
        # Split claim: two claim payments, one claim.
        C5: (D("150.00"), D("110.00"), D("40.00"), z, z, z, z, "paid"),
        # Paid 80, then taken back by PLB WO: the insurance owes the 80 again.
        C6: (D("100.00"), z, D("20.00"), z, z, D("80.00"), D("2.00"), "taken_back"),
        C7: (z, z, z, z, z, z, z, "not_submitted"),
        C8: (D("80.00"), z, z, z, D("80.00"), z, z, "self_pay"),
        C9: (D("100.00"), D("90.00"), D("10.00"), z, z, z, z, "paid"),
        C10: (D("100.00"), z, z, z, z, D("100.00"), z, "rejected"),
        C11: (D("100.00"), z, z, z, z, D("100.00"), z, "rejected"),
    }
    assert got == expected


def test_status_history_of_reversed_and_corrected_claim(built: dict[str, Any]) -> None:
    rows = query(
        built,
        f"""
        select status, source_type, cast(status_date as varchar), is_current
        from marts.fct_claim_status_history where claim_id = '{C4}' order by status_seq
    """,
    )
    assert rows == [
        ("submitted", "837_submission", "2026-03-15", False),
        ("accepted", "999", "2026-03-15", False),
        ("paid", "835_claim_payment", "2026-04-10", False),
        ("reversed", "835_claim_payment", "2026-05-15", False),
        ("paid", "835_claim_payment", "2026-05-15", True),
    ]
    [(reversed_id, corrected_id)] = query(
        built,
        f"""
        select
            (select reversed_claim_payment_id from intermediate.int_remit_claims_matched
             where claim_id = '{C4}' and is_reversal),
            (select corrected_claim_payment_id from intermediate.int_remit_claims_matched
             where claim_id = '{C4}' and is_correction)
    """,
    )
    assert reversed_id == corrected_id is not None


def test_work_queue_lists_every_item_to_act_on(built: dict[str, Any]) -> None:
    rows = query(
        built,
        """
        select work_item_type, reason_code, claim_id, amount
        from marts.fct_remit_work_queue order by all
    """,
    )
    expected = sorted(
        [
            ("unmatched_claim_payment", "unknown_patient_control_number", None, D("25.00")),
            ("unmatched_claim_payment", "payer_mismatch", C3, D("10.00")),
            ("unmatched_claim_payment", "claim_not_submitted", C7, D("50.00")),
            ("unmatched_claim_payment", "service_dates_outside_claim", C2, D("0.00")),
            ("unmatched_service_line", "line_control_number_not_on_claim", C9, D("0.00")),
            ("unknown_takeback_claim", "unknown_claim_reference", None, D("12.50")),
            ("ack_999_rejected", "status_r", C10, None),
            ("ack_999_unmatched", "unknown_control_numbers", None, None),
            ("ack_277ca_rejected", "A7:562", C11, D("100.00")),
            ("ack_277ca_unmatched", "unknown_patient_control_number", None, D("55.00")),
            ("remit_out_of_balance", "transaction", None, D("0.01")),
        ],
        key=lambda r: tuple("" if v is None else str(v) for v in r),
    )
    assert sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r)) == expected
    assert all(
        reason for (reason,) in query(built, "select reason from marts.fct_remit_work_queue")
    )


def test_matching_methods(built: dict[str, Any]) -> None:
    rows = query(
        built,
        f"""
        select claim_id, match_method from intermediate.int_remit_claims_matched
        where claim_id in ('{C9}', '{C1}') order by claim_id
    """,
    )
    assert dict(rows) == {C1: "patient_control_number", C9: "truncated_patient_control_number"}
    lines = query(
        built,
        f"""
        select claim_line_id, line_match_method, paid_amount
        from intermediate.int_remit_lines_matched where claim_id = '{C9}' order by segment_position
    """,
    )
    assert lines == [
        (f"{C9}-002", "procedure_date_modifiers", D("20.00")),
        (f"{C9}-001", "procedure_date_modifiers", D("70.00")),
        (None, None, D("0.00")),
    ]


def test_ledger_signs_interest_and_unapplied_cash(built: dict[str, Any]) -> None:
    unapplied = query(
        built,
        """
        select event_type, reason_code, amount from marts.fct_ar_ledger
        where claim_id is null order by all
    """,
    )
    assert unapplied == sorted(
        [
            ("interest", "L6", D("-1.00")),  # 3.00 of L6 less E6's 2.00 of AMT*I
            ("payment", None, D("-10.00")),  # E3 paid by the wrong payer
            ("payment", None, D("-25.00")),  # unknown CLP01
            ("payment", None, D("-50.00")),  # E7 never submitted
            ("provider_adjustment", "FB", D("-77.50")),
            ("takeback", "WO", D("12.50")),  # unknown claim
        ]
    )
    e1 = query(
        built,
        f"""
        select event_type, balance_component, group_code, reason_code, amount, claim_line_id
        from marts.fct_ar_ledger where claim_id = '{C1}' order by event_type, claim_line_id, amount
    """,
    )
    assert e1 == [
        ("charge", "charge", None, None, D("100.00"), f"{C1}-001"),
        ("charge", "charge", None, None, D("20.00"), f"{C1}-002"),
        ("contractual_adjustment", "contractual_adjustment", "CO", "45", D("-20.00"), f"{C1}-001"),
        ("contractual_adjustment", "contractual_adjustment", "CO", "45", D("-5.00"), f"{C1}-002"),
        ("interest", "none", None, "L6", D("-5.00"), None),
        ("patient_responsibility", "patient_responsibility", "PR", "2", D("-20.00"), f"{C1}-001"),
        ("payment", "payment", None, None, D("-60.00"), f"{C1}-001"),
        ("payment", "payment", None, None, D("-15.00"), f"{C1}-002"),
    ]


def test_ledger_cash_is_the_money_of_each_835(built: dict[str, Any]) -> None:
    rows = query(
        built,
        """
        select p.trace_number, -sum(l.amount)
        from marts.fct_ar_ledger as l
        join intermediate.int_remit_payments_deduplicated as p using (payment_id)
        where l.is_cash group by p.trace_number order by 1
    """,
    )
    # A: BPR02 393.00; B: 0.00; C: sum(CLP04) 110.00 (its BPR02 says 110.01: a work item).
    assert rows == [("EFT-C1", D("110.00")), ("TRACE-A1", D("393.00")), ("TRACE-B1", D("0.00"))]


def test_second_delivery_of_a_payment_posts_nothing(built: dict[str, Any]) -> None:
    assert built["before"] == built["after"]
    assert all(built["before"][t] for t in MARTS)
    resent_ids = [r["payment_id"] for r in built["resent"].rows["x12_remit_payments"]]
    rows = query(
        built,
        f"""
        select payment_id, is_duplicate_delivery, duplicate_of_payment_id is not null
        from intermediate.int_remit_payments_deduplicated
        where payment_id in ({", ".join(f"'{p}'" for p in resent_ids)})
    """,
    )
    assert rows == [(resent_ids[0], True, True)]


def test_imbalanced_transaction_warns_without_failing_the_build(built: dict[str, Any]) -> None:
    log = built["build_log"]
    assert "assert_remit_transactions_balance" in log
    assert "WARN 1 assert_remit_transactions_balance" in log

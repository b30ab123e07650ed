"""837I writer: every file written here is validated with pyx12 4.0.0 (zero errors) and an
independent structure check (envelope counts, HL tree, CLM02 = sum of the lines)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from revcycle.claims.model import Claim, ClaimDataError, ClaimLine, Person
from revcycle.x12.envelope import (
    ClaimLimitError,
    ClaimTypeError,
    ControlNumbers,
    WriteSummary,
    transaction_sets_needed,
)
from revcycle.x12.read_837 import read_837_claims
from revcycle.x12.writer_837i import cl1_segment, is_inpatient, write_837i
from tests.claims.support import (
    BILLING,
    DEPENDENT,
    FACILITY,
    NOW,
    RENDERING_NPI,
    SUBMITTER,
    SUBSCRIBER,
    assert_valid,
    institutional_claim,
    line,
    professional_claim,
    segments,
)


def write(claims: list[Claim], *, per_st: int = 5000) -> tuple[str, WriteSummary]:
    out = io.StringIO(newline="")
    count = transaction_sets_needed(len(claims), per_st)
    summary = write_837i(
        out,
        claims,
        submitter=SUBMITTER,
        control=ControlNumbers(interchange=900, group=901, transactions=range(5, 5 + count)),
        now=NOW,
        claims_per_transaction=per_st,
    )
    return out.getvalue(), summary


def find(text: str, tag: str, first: str | None = None) -> list[list[str]]:
    return [s for s in segments(text) if s[0] == tag and (first is None or s[1] == first)]


TWELVE_DX = (
    "R079",
    "I10",
    "E119",
    "E785",
    "J449",
    "M545",
    "R51",
    "Z0000",
    "F419",
    "K219",
    "N390",
    "G4700",
)


def test_mixed_file_is_valid_and_complete() -> None:
    dirty = Person(
        last_name="Doe*~Ray",
        first_name="Él:ise^|",
        middle_initial=None,
        birth_date=date(1990, 2, 3),
        sex="F",
        address=replace(SUBSCRIBER.person.address, line1="5 Oak*Ave~"),  # type: ignore[type-var]
        person_id="P77",
    )
    claims = [
        institutional_claim(),  # patient is the subscriber
        institutional_claim(
            "C1000000000000002", patient=DEPENDENT, relationship_to_subscriber="19"
        ),
        institutional_claim("C1000000000000003", diagnoses=TWELVE_DX, facility=FACILITY),
        institutional_claim("C1000000000000004", patient=dirty, relationship_to_subscriber="01"),
        institutional_claim(
            "C1000000000000005",
            lines=(
                line(
                    "C1000000000000005",
                    1,
                    code="99284",
                    modifiers=("25", "59", "GT", "95"),
                    revenue_code="0450",
                    pointers=(),
                ),
                # A room-and-board style line: revenue code only, no HCPCS.
                ClaimLine(
                    "C1000000000000005L002",
                    2,
                    date(2026, 10, 5),
                    None,
                    Decimal("1200.00"),
                    1,
                    revenue_code="0110",
                ),
            ),
        ),
    ]
    text, summary = write(claims)
    assert_valid(text)

    assert summary.claim_count == 5
    assert summary.total_charge_amount == sum((c.total_charge_amount for c in claims), Decimal("0"))
    # CLM05 = facility type (TOB digits 2-3) : A : frequency; CLM06 empty.
    assert find(text, "CLM")[0][5:10] == ["13:A:1", "", "A", "Y", "Y"]
    assert ["DTP", "434", "RD8", "20261005-20261006"] in segments(text)
    assert find(text, "CL1")[0] == ["CL1", "", "1", "01"]
    # Principal diagnosis alone, the other eleven in one HI*ABF segment.
    assert ["HI", "ABK:R079"] in segments(text)
    assert ["HI", *[f"ABF:{code}" for code in TWELVE_DX[1:]]] in segments(text)
    assert ["NM1", "71", "1", "OKAFOR", "ADA", "", "", "", "XX", RENDERING_NPI] in segments(text)
    assert ["PRV", "AT", "PXC", "207Q00000X"] in segments(text)
    assert len(find(text, "NM1", "77")) == 1
    assert ["SV2", "0450", "HC:99284:25:59:GT:95", "125", "UN", "1"] in segments(text)
    assert ["SV2", "0110", "", "1200", "UN", "1"] in segments(text)
    assert ["NM1", "QC", "1", "DOERAY", "ELISE"] in segments(text)
    assert ["N3", "5 OAKAVE"] in segments(text)
    assert sorted(s[1] for s in find(text, "PAT")) == ["01", "19"]


def test_101_claims_for_one_subscriber_open_a_second_subscriber_loop() -> None:
    claims = [institutional_claim(f"C{n:016d}") for n in range(1, 102)]
    text, _ = write(claims)
    assert_valid(text)
    assert [s[3] for s in find(text, "HL")] == ["20", "22", "22"]


def test_101_claims_of_one_dependent_split_the_subscriber_loop() -> None:
    claims = [
        institutional_claim(f"C{n:016d}", patient=DEPENDENT, relationship_to_subscriber="19")
        for n in range(1, 102)
    ]
    text, _ = write(claims)
    assert_valid(text)
    assert [s[3] for s in find(text, "HL")] == ["20", "22", "23", "22", "23"]


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_replacement_and_void(frequency: str) -> None:
    claim = institutional_claim(frequency_code=frequency, payer_claim_control_number="2026ABC0001")
    text, _ = write([claim])
    assert_valid(text)
    assert find(text, "CLM")[0][5] == f"13:A:{frequency}"
    assert find(text, "REF", "F8") == [["REF", "F8", "2026ABC0001"]]


def test_inpatient_bill_type_gets_inpatient_cl1() -> None:
    assert is_inpatient("0111") and is_inpatient("0211") and is_inpatient("0181")
    assert not is_inpatient("0131") and not is_inpatient("0731") and not is_inpatient("0831")
    assert cl1_segment("0131") == "CL1**1*01~\n"
    text, _ = write([institutional_claim(type_of_bill="0111")])
    assert_valid(text)
    assert find(text, "CL1") == [["CL1", "9", "9", "01"]]
    assert find(text, "CLM")[0][5] == "11:A:1"


def test_several_transaction_sets() -> None:
    claims = [institutional_claim(f"C{n:016d}") for n in range(1, 6)]
    text, summary = write(claims, per_st=2)
    assert_valid(text)
    assert summary.transaction_control_numbers == ("0005", "0006", "0007")
    assert find(text, "GE") == [["GE", "3", "901"]]
    assert find(text, "GS")[0][8] == "005010X223A2"


def test_round_trip_through_the_reader() -> None:
    claims = [
        institutional_claim(),
        institutional_claim(
            "C1000000000000002", patient=DEPENDENT, relationship_to_subscriber="19"
        ),
        institutional_claim("C1000000000000003", diagnoses=TWELVE_DX),
    ]
    text, _ = write(claims)
    assert_valid(text)
    read = {c.claim_id: c for c in read_837_claims(text, "round-trip.x12")}
    for claim in claims:
        back = read[claim.claim_id]
        assert back.kind == "institutional"
        assert back.total_charge == claim.total_charge_amount == back.line_total
        assert back.diagnoses == claim.diagnoses
        assert back.bill_type == "131"
        assert (back.statement_from, back.statement_to) == (
            claim.service_date,
            claim.service_date_to,
        )
        assert [line.revenue_code for line in back.lines] == [
            line.revenue_code for line in claim.lines
        ]
        assert [line.line_control_number for line in back.lines] == [
            line.claim_line_id for line in claim.lines
        ]


def test_refusals() -> None:
    with pytest.raises(ClaimTypeError, match="professional"):
        write([professional_claim()])
    lines = tuple(
        line("C1000000000000051", n, revenue_code="0450", pointers=()) for n in range(1, 52)
    )
    with pytest.raises(ClaimLimitError, match="837I"):
        write([institutional_claim("C1000000000000051", lines=lines)])
    with pytest.raises(ClaimDataError, match="type of bill"):
        institutional_claim(type_of_bill="131")
    with pytest.raises(ClaimDataError, match="revenue code"):
        institutional_claim(lines=(line("C1000000000000001", 1, pointers=()),))
    # pyx12's 837I map enforces the 9-digit billing ZIP; we refuse before writing.
    short_zip = replace(BILLING, address=replace(BILLING.address, zip="62701"))
    with pytest.raises(ClaimDataError, match="9 digits"):
        write([institutional_claim(billing_provider=short_zip)])


def test_secondary_institutional_claim_carries_line_adjudication_with_revenue_codes() -> None:
    from tests.claims.support import secondary_of

    primary = institutional_claim()
    text, summary = write([secondary_of(primary, "C1000000000000009")])

    assert_valid(text)
    assert summary.total_charge_amount == primary.total_charge_amount
    svd = [s for s in segments(text) if s[0] == "SVD"]
    # SVD03 the procedure, SVD04 the revenue code the line was billed under.
    assert [(s[3], s[4]) for s in svd] == [("HC:99284", "0450"), ("HC:71046", "0320")]
    assert sum(Decimal(s[2]) for s in svd) == Decimal(
        next(s for s in segments(text) if s[:2] == ["AMT", "D"])[2]
    )

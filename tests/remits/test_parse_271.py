"""271 eligibility responses into their tables (docs/remittance-tables.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.remits.parse_271 import parse_271
from revcycle.remits.tables import TABLE_COLUMNS, EligibilityBenefit, EligibilityResponse
from revcycle.x12.reader import X12ReadError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"
DEMO_271 = FIXTURES / "ack" / "lfh-demo.271"

ISA = (
    "ISA*00*          *00*          *ZZ*SIMCLEARING    *ZZ*REVCYCLE       "
    "*261001*0530*^*00501*000000004*0*T*:~\n"
)
OURS = (
    ISA
    + """GS*HB*SIMCLEARING*REVCYCLE*20261001*0530*4*X*005010X279A1~
ST*271*0001*005010X279A1~
BHT*0022*11*0000000120001*20261001*0530~
HL*1**20*1~
NM1*PR*2*DEMO HEALTH PLAN*****PI*87726~
HL*2*1*21*1~
NM1*1P*2*RIVERSIDE FAMILY PRACTICE*****XX*1234567893~
HL*3*2*22*0~
TRN*2*000000012-00001*1123456789~
NM1*IL*1*DOE*JANE****MI*W1234567~
DMG*D8*19700501*F~
DTP*291*D8*20261005~
EB*1*IND*30~
EB*C*IND*30***29*150*****N~
EB*B*IND*98***27*25*****N~
EB*A*IND*98*****0.4****N~
HL*4*2*22*1~
NM1*IL*1*DOE*JOHN****MI*W7654321~
HL*5*4*23*0~
TRN*2*000000012-00002*1123456789~
NM1*03*1*DOE*LEO~
DTP*291*D8*20261006~
AAA*Y**72*C~
SE*23*0001~
GE*1*4~
IEA*1*000000004~
"""
)


def test_the_guide_example_271_is_read() -> None:
    tables = parse_271(DEMO_271.read_bytes(), DEMO_271.name)
    (response,) = tables["eligibility_responses"]
    assert isinstance(response, EligibilityResponse)
    assert response.trace_number == "93175-012547"
    assert response.trace_originator_id == "9877281234"
    assert (response.payer_id, response.payer_name) == ("841610001", "ABC COMPANY")
    assert response.information_receiver_id == "2000035"
    assert response.subscriber_level == "subscriber"
    assert response.response_date == date(2006, 5, 1)
    assert response.eligibility_date == date(2006, 1, 1)  # DTP*346, the only date given
    assert response.coverage_status == "active"
    assert response.benefit_count == 5
    benefits = tables["eligibility_benefits"]
    assert all(isinstance(b, EligibilityBenefit) for b in benefits)
    assert [b.benefit_code for b in benefits] == ["1", "L", "1", "B", "B"]
    copays = [(b.benefit_amount, b.in_plan_network) for b in benefits if b.benefit_code == "B"]
    assert copays == [(Decimal("10.00"), "Y"), (Decimal("30.00"), "N")]
    assert benefits[2].service_type_codes == "1,33,35,47,86,88,98,AL,MH,UC"  # EB03 repeats
    assert benefits[0].plan_coverage_description == "GOLD 123 PLAN"
    for table, rows in tables.items():
        assert all(len(row) == len(TABLE_COLUMNS[table]) for row in rows)


def test_our_271_dependent_rejection_and_out_of_network() -> None:
    tables = parse_271(OURS.encode(), "ours.x12")
    first, second = tables["eligibility_responses"]
    assert (first.trace_number, first.subscriber_level, first.coverage_status) == (
        "000000012-00001",
        "subscriber",
        "active",
    )
    assert first.eligibility_date == date(2026, 10, 5)
    assert (second.trace_number, second.subscriber_level) == ("000000012-00002", "dependent")
    assert second.coverage_status is None and second.reject_reason_code == "72"
    assert second.benefit_count == 0
    benefits = {b.benefit_code: b for b in tables["eligibility_benefits"]}
    assert (
        benefits["C"].benefit_amount == Decimal("150")
        and benefits["C"].time_period_qualifier == "29"
    )
    assert benefits["A"].benefit_percent == Decimal("0.4") and benefits["A"].in_plan_network == "N"
    assert all(b.response_id == first.response_id for b in benefits.values())
    # No name, birth date or member id is kept anywhere.
    text = repr(tables)
    assert "DOE" not in text and "W1234567" not in text and "1970" not in text


def test_bad_amounts_and_files_without_a_271_are_read_errors() -> None:
    with pytest.raises(X12ReadError, match="EB07 is not a valid decimal amount"):
        parse_271(OURS.replace("*29*150*", "*29*1O0*").encode(), "bad.x12")
    with pytest.raises(X12ReadError, match="no 271 transaction"):
        parse_271((FIXTURES / "ack" / "lfh-demo.270").read_bytes(), "inquiry.x12")

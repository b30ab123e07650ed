"""The 270 writer: the guide's hierarchy, one trace per inquiry, valid per pyx12 (its 4010 map
brought to 005010X279A1, revcycle.x12.pyx12_maps), and refusals before anything is complete.

PROVENANCE: every person, provider, payer and identifier here is invented.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest

from revcycle.claims.model import Payer, Person
from revcycle.x12.envelope import SIMULATED_CLEARINGHOUSE, ControlNumberError, ControlNumbers
from revcycle.x12.reader import read_interchanges
from revcycle.x12.validate import format_report, validate_bytes
from revcycle.x12.writer_270 import (
    MAX_INQUIRIES_PER_TRANSACTION,
    EligibilityInquiry,
    InformationReceiver,
    InquiryDataError,
    transaction_sets_needed,
    write_270,
)

NOW = datetime(2026, 10, 1, 8, 30)
PAYER = Payer("87726", "Demo Health Plan")
PROVIDER = InformationReceiver("Riverside Family Practice", "1234567893", "123456789")
SUBSCRIBER = Person("O'Brien-Smith", "Jane", "Q", date(1970, 5, 1), "F", None)
CHILD = Person("Smith", "Léo", None, date(2015, 2, 3), "M", None)


def inquiry(
    trace: str, patient: Person | None = None, member_id: str = "W1234567"
) -> EligibilityInquiry:
    return EligibilityInquiry(
        trace_number=trace,
        payer=PAYER,
        provider=PROVIDER,
        subscriber=SUBSCRIBER,
        member_id=member_id,
        plan_date=date(2026, 10, 5),
        patient=patient,
    )


def write(inquiries: list[EligibilityInquiry], transactions: range = range(7, 8)) -> str:
    out = io.StringIO()
    write_270(
        out,
        inquiries,
        submitter=SIMULATED_CLEARINGHOUSE,
        control=ControlNumbers(interchange=12, group=12, transactions=transactions),
        now=NOW,
    )
    return out.getvalue()


def test_subscriber_and_dependent_inquiries_follow_the_guide_and_validate() -> None:
    text = write([inquiry("000000012-00001"), inquiry("000000012-00002", patient=CHILD)])
    report = validate_bytes(text.encode(), "inquiries.x12")
    assert report.is_valid, format_report(report)
    segments = [s.split("*") for s in text.replace("\n", "").split("~") if s]
    ids = [s[0] for s in segments]
    assert ids[:4] == ["ISA", "GS", "ST", "BHT"]
    assert segments[1][1] == "HS" and segments[1][8] == "005010X279A1"
    assert segments[2] == ["ST", "270", "0007", "005010X279A1"]
    assert segments[3][1:3] == ["0022", "13"]
    hls = [s[1:] for s in segments if s[0] == "HL"]
    # payer 20 -> provider 21 -> subscriber 22 (no child) ; subscriber 22 (child) -> 23
    assert hls == [["1", "", "20", "1"], ["2", "1", "21", "1"], ["3", "2", "22", "0"],
                   ["4", "2", "22", "1"], ["5", "4", "23", "0"]]  # fmt: skip
    assert ["NM1", "PR", "2", "DEMO HEALTH PLAN", "", "", "", "", "PI", "87726"] in segments
    assert ["NM1", "1P", "2", "RIVERSIDE FAMILY PRACTICE", "", "", "", "", "XX", "1234567893"] in (
        segments
    )
    traces = [s for s in segments if s[0] == "TRN"]
    assert traces == [
        ["TRN", "1", "000000012-00001", "1123456789"],  # 1 + the provider's TIN
        ["TRN", "1", "000000012-00002", "1123456789"],
    ]
    # The dependent's trace, dates and question are in 2000D, after NM1*03.
    dependent = ids.index("TRN", ids.index("HL", ids.index("TRN") + 1) + 2)
    assert ids[dependent - 1] == "HL" and ids[dependent + 1 : dependent + 5] == [
        "NM1", "DMG", "DTP", "EQ"
    ]  # fmt: skip
    assert segments[dependent + 1][:5] == ["NM1", "03", "1", "SMITH", "LEO"]
    assert ["DTP", "291", "D8", "20261005"] in segments and ["EQ", "30"] in segments
    assert ["NM1", "IL", "1", "O'BRIEN-SMITH", "JANE", "Q", "", "", "MI", "W1234567"] in segments
    (interchange,) = read_interchanges(text, "inquiries.x12")
    assert interchange.warnings == [] and interchange.control_number == "000000012"
    se = segments[ids.index("SE")]
    assert int(se[1]) == ids.index("SE") - ids.index("ST") + 1


def test_many_inquiries_fill_several_transaction_sets() -> None:
    count = MAX_INQUIRIES_PER_TRANSACTION + 2
    assert transaction_sets_needed(count) == 2
    text = write([inquiry(f"000000012-{n:05d}") for n in range(count)], range(40, 42))
    assert validate_bytes(text.encode(), "many.x12").is_valid
    assert text.count("ST*270*") == 2 and "GE*2*12~" in text
    assert text.count("TRN*1*") == count
    with pytest.raises(ControlNumberError):
        write([inquiry(f"000000012-{n:05d}") for n in range(count)], range(40, 41))


def test_bad_inquiries_are_refused_naming_the_inquiry() -> None:
    with pytest.raises(InquiryDataError, match=r"inquiry 000000012-00001: .*member id"):
        write([inquiry("000000012-00001", member_id="")])
    with pytest.raises(InquiryDataError, match="appears twice"):
        write([inquiry("000000012-00001"), inquiry("000000012-00001")])
    with pytest.raises(InquiryDataError, match="trace number"):
        write([inquiry("BAD*TRACE")])


def test_a_broken_270_is_reported_by_the_validation() -> None:
    text = write([inquiry("000000012-00001")]).replace("DTP*291*", "DTP*999*")
    report = validate_bytes(text.encode(), "broken.x12")
    assert not report.is_valid
    assert {i.segment_id for i in report.errors} == {"DTP"}

"""999 and 277CA acknowledgments into their tables: public samples and hand-built files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.remits.parse_acks import parse_277ca, parse_999
from revcycle.x12.reader import X12ReadError

ACK = Path(__file__).resolve().parents[1] / "fixtures" / "x12" / "ack"


def interchange(body: str, *, version: str = "00501", repetition: str = "^") -> bytes:
    """Wrap ``body`` (GS ... GE) in a fixed-width ISA/IEA."""
    isa = (
        f"ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*REVCYCLE       *261102*1200*"
        f"{repetition}*{version}*000000777*0*P*:~"
    )
    assert len(isa) == 106
    return (isa + body + "IEA*1*000000777~").encode()


# --------------------------------------------------------------------------------------------
# 999


def test_999_samples() -> None:
    (accepted,) = parse_999((ACK / "imsweb-x12_999_accepted.txt").read_bytes(), "a.txt")
    assert (accepted.functional_id, accepted.acknowledged_group_control_number) == ("HC", "17456")
    assert (
        accepted.acknowledged_transaction_set_id,
        accepted.acknowledged_transaction_control_number,
    ) == ("837", "0001")
    assert (accepted.transaction_status, accepted.group_status) == ("A", "A")
    assert (accepted.error_count, accepted.error_summary) == (0, None)
    assert accepted.ack_id == f"{accepted.file_sha256[:16]}-0001-5"

    (rejected,) = parse_999((ACK / "imsweb-x12_999_rejected.txt").read_bytes(), "r.txt")
    assert (rejected.acknowledged_group_control_number, rejected.position) == ("28", 5)
    assert (rejected.transaction_status, rejected.group_status) == ("R", "R")
    assert rejected.error_count == 1
    assert rejected.error_summary == "NM at position 17: 1; transaction: 5"


HAND_BUILT_999 = interchange(
    "GS*FA*CLEARINGHOUSE*REVCYCLE*20261102*1200*777*X*005010X231A1~"
    "ST*999*0001*005010X231A1~"
    "AK1*HC*101*005010X222A1~"
    "AK2*837*0001*005010X222A1~"
    "IK5*A~"
    "AK2*837*0002*005010X222A1~"
    "IK3*NM1*17*2010BA*8~"
    "IK4*9**7*W123456789~"
    "IK3*CLM*25**8~"
    "IK4*5:3**7*JOHNDOE~"
    "IK5*R*5~"
    "AK9*P*2*2*1~"
    "AK1*HC*102*005010X222A1~"
    "AK9*R*1*0*0*1~"
    "SE*15*0001~"
    "GE*1*777~"
)


def test_999_accepted_rejected_and_a_rejected_group_without_ak2() -> None:
    ok, bad, group = parse_999(HAND_BUILT_999, "999.txt")
    assert (ok.acknowledged_transaction_control_number, ok.transaction_status) == ("0001", "A")
    assert (ok.group_status, ok.error_count, ok.error_summary) == ("P", 0, None)

    assert (bad.acknowledged_transaction_control_number, bad.transaction_status) == ("0002", "R")
    assert bad.error_count == 4
    assert bad.error_summary == (
        "NM1 at position 17: 8; NM1 at position 17, element 9: 7; "
        "CLM at position 25: 8; CLM at position 25, element 5-3: 7; transaction: 5"
    )
    assert (group.acknowledged_group_control_number, group.group_status) == ("102", "R")
    assert (group.acknowledged_transaction_set_id, group.transaction_status) == (None, None)
    assert group.error_summary == "group: 1"
    assert len({ok.ack_id, bad.ack_id, group.ack_id}) == 3
    # IK404 copies the bad data (a member id, a name): never kept.
    cells = " ".join(str(v) for row in (ok, bad, group) for v in row)
    assert "W123456789" not in cells and "JOHNDOE" not in cells


def test_4010_997_is_read_the_same_way() -> None:
    data = interchange(
        "GS*FA*CH*RC*20261102*1200*778*X*004010~"
        "ST*997*0001~"
        "AK1*HC*55~"
        "AK2*837*0001~"
        "AK3*CLM*12**8~"
        "AK4*2**4~"
        "AK5*R*5~"
        "AK9*R*1*1*0~"
        "SE*8*0001~"
        "GE*1*778~",
        version="00401",
        repetition="U",
    )
    (row,) = parse_999(data, "997.txt")
    assert (row.transaction_status, row.group_status, row.error_count) == ("R", "R", 2)
    assert (
        row.error_summary
        == "CLM at position 12: 8; CLM at position 12, element 2: 4; transaction: 5"
    )


def test_999_errors() -> None:
    with pytest.raises(X12ReadError, match="no 999"):
        parse_999((ACK / "lfh-demo.277").read_bytes(), "277.txt")
    with pytest.raises(X12ReadError):
        parse_999(b"\x00\x01 nothing", "junk")


# --------------------------------------------------------------------------------------------
# 277CA

HAND_BUILT_277CA = interchange(
    "GS*HN*CLEARINGHOUSE*REVCYCLE*20261102*1200*777*X*005010X214~"
    "ST*277*0001*005010X214~"
    "BHT*0085*08*BATCH1*20261102*1200*TH~"
    "HL*1**20*1~"
    "NM1*PR*2*ACME HEALTH PLAN*****PI*87726~"
    "TRN*1*0091182~"
    "DTP*050*D8*20261101~"
    "DTP*009*D8*20261102~"
    "HL*2*1*21*1~"
    "NM1*41*2*REVCYCLE*****46*REVCYCLE~"
    "TRN*2*000000101~"
    "STC*A1:19:PR*20261102*WQ*1250.00~"
    "QTY*90*1~"
    "QTY*AA*1~"
    "AMT*YU*800.00~"
    "AMT*YY*450.00~"
    "HL*3*2*19*1~"
    "NM1*85*2*CLINIC*****XX*1234567893~"
    "TRN*1*0~"
    "STC*A1:19:PR*20261102*WQ*1250.00~"
    "HL*4*3*PT~"
    "NM1*QC*1*DOE*JANE****MI*W123456789~"
    "TRN*2*C0001~"
    "STC*A2:20:PR*20261102*WQ*800.00~"
    "REF*1K*PAYER0001~"
    "DTP*472*RD8*20261001-20261002~"
    "HL*5*3*PT~"
    "NM1*QC*1*ROE*RICHARD****MI*W987654321~"
    "TRN*2*C0002~"
    "STC*A7:562:85*20261102*U*450.00******A7:21~"
    "REF*1K*PAYER0002~"
    "SVC*HC:99213*450.00****1~"
    "STC*A7:454*20261102*U*450.00~"
    "REF*FJ*C0002-1~"
    "DTP*472*D8*20261005~"
    "SE*35*0001~"
    "GE*1*777~"
)


def test_277ca_accepted_and_rejected_claims() -> None:
    accepted, rejected = parse_277ca(HAND_BUILT_277CA, "277ca.txt")
    assert (accepted.patient_control_number, accepted.payer_claim_control_number) == (
        "C0001",
        "PAYER0001",
    )
    assert (accepted.status_category, accepted.status_code, accepted.is_accepted) == (
        "A2",
        "20",
        True,
    )
    assert accepted.status_effective_date == date(2026, 11, 2)
    assert accepted.total_charge_amount == Decimal("800.00")
    assert accepted.service_date == date(2026, 10, 1)
    assert accepted.status_codes == "A2:20:PR"

    assert rejected.patient_control_number == "C0002"
    assert (rejected.status_category, rejected.status_code, rejected.is_accepted) == (
        "A7",
        "562",
        False,
    )
    assert rejected.status_codes == "A7:562:85; A7:21"  # the line's STC is not the claim's
    assert rejected.service_date == date(2026, 10, 5)  # no claim DTP: the first line's
    assert rejected.ack_id == f"{rejected.file_sha256[:16]}-0001-{rejected.position}"
    cells = " ".join(str(v) for row in (accepted, rejected) for v in row)
    for secret in ("DOE", "JANE", "W123456789", "ROE", "W987654321"):
        assert secret not in cells


def test_a_277_claim_status_response_sample_is_read_gracefully() -> None:
    rows = parse_277ca((ACK / "lfh-demo.277").read_bytes(), "lfh-demo.277")
    assert [r.patient_control_number for r in rows] == ["ABCXYZ1", "ABCXYZ2", "ABCXYC3"]
    assert [r.payer_claim_control_number for r in rows] == [
        "05347006051",
        "0529675341",
        "051681010827",
    ]
    assert [(r.status_category, r.status_code) for r in rows] == [
        ("P3", "317"),
        ("F0", "3"),
        ("F2", "88"),
    ]
    assert [r.is_accepted for r in rows] == [None, None, None]  # pending / finalized
    assert [r.total_charge_amount for r in rows] == [
        Decimal("8513.88"),
        Decimal("7599.00"),
        Decimal("150.00"),
    ]
    assert rows[0].service_date == date(2005, 8, 31)
    assert rows[2].service_date == date(2005, 5, 1)


def test_277ca_errors() -> None:
    with pytest.raises(X12ReadError, match="no 277"):
        parse_277ca((ACK / "lfh-demo.276").read_bytes(), "lfh-demo.276")
    bad = HAND_BUILT_277CA.replace(b"WQ*800.00~", b"WQ*8O0.00~")
    with pytest.raises(X12ReadError, match=r"STC04 is not a valid decimal amount") as caught:
        parse_277ca(bad, "bad.txt")
    assert "8O0" not in str(caught.value)
